package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.InMemoryWorkspaceStore;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.core.control.WorkspaceStore;
import dev.agentcore.core.testing.ForwardingAgentStore;
import dev.agentcore.core.testing.ForwardingWorkspaceStore;
import io.rsocket.RSocket;
import java.lang.ref.WeakReference;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * What a connection is done with is not kept while it idles: the chain its SETUP was checked with
 * (rsocket-java holds the acceptor's subscriber for the connection's life, and with it everything
 * the authentication captured, the presented credential's hash among it), and the chain of the
 * last update its lifecycle channel applied (concatMap holds its last inner until the next one).
 * Each was a few hundred bytes per connected, idle agent.
 */
class RetentionTest {

    @Test
    void theChainThatAuthenticatedAConnectionIsLetGoOnceItAnswered() throws Exception {
        InMemoryAgentStore rows = new InMemoryAgentStore();
        List<WeakReference<Object>> captured = new ArrayList<>();
        WorkspaceStore workspaces = new ForwardingWorkspaceStore(new InMemoryWorkspaceStore()) {
            @Override
            public Mono<StoredConnectionToken> findConnectionToken(String tokenHash) {
                // Only this chain refers to it: it is collected once nothing keeps the chain.
                Object onlyInTheChain = new Object();
                captured.add(new WeakReference<>(onlyInTheChain));
                return super.findConnectionToken(tokenHash).filter(found -> onlyInTheChain != null);
            }
        };
        AccessService access = new AccessService(rows, workspaces);
        LifecycleService lifecycle = LifecycleService.builder(rows).build();
        ControlPlaneServer.RunningControlPlane server = ControlPlaneServer.builder(lifecycle, access)
                .tcp("127.0.0.1", 0).build().start().block(TIMEOUT);
        try {
            String identity = access.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
            lifecycle.startBuild("ws").block(TIMEOUT);
            String token = access.exchangeForConnection(identity).block(TIMEOUT).connectionToken();
            RSocket agent = RSocketClients.connect(ControlPlaneAddress.tcp("127.0.0.1", server.tcpAddress().getPort()),
                    token).block(TIMEOUT);
            // Answered: the SETUP was accepted, and the connection is open while we look.
            RSocketClients.requestStream(agent, Routes.MANIFESTS_V2, new byte[0], data -> data).take(1).blockLast(TIMEOUT);
            assertThat(captured).hasSize(1);

            collectWhileOpen(captured.get(0));

            assertThat(agent.isDisposed()).isFalse();
            agent.dispose();
        } finally {
            server.disposeNow(TIMEOUT);
        }
    }

    @Test
    void anIdleLifecycleChannelKeepsNothingOfItsBindingOrItsLastUpdate() throws Exception {
        List<WeakReference<Object>> captured = new CopyOnWriteArrayList<>();
        InMemoryAgentStore stored = new InMemoryAgentStore();
        // Every read and write of a row, by the binding, the fence's check and the update, marked.
        ForwardingAgentStore rows = new ForwardingAgentStore(stored) {
            @Override
            public Mono<Boolean> compareAndSet(AgentRow expected, AgentRow next) {
                return marked(super.compareAndSet(expected, next));
            }

            @Override
            public Mono<AgentRow> recentRow(dev.agentcore.core.AgentId agentId) {
                return marked(super.recentRow(agentId));
            }

            @Override
            public Mono<AgentRow> findRow(dev.agentcore.core.AgentId agentId) {
                return marked(super.findRow(agentId));
            }

            /**
             * Marks what subscribes to the call (an operator made at subscription, referred to only by
             * its subscribers): what is assembled once per channel lives as long as the channel anyway.
             */
            private <T> Mono<T> marked(Mono<T> call) {
                return Mono.defer(() -> {
                    Object onlyInTheChain = new Object();
                    captured.add(new WeakReference<>(onlyInTheChain));
                    return call.filter(value -> onlyInTheChain != null);
                });
            }
        };
        InMemoryWorkspaceStore workspaces = new InMemoryWorkspaceStore();
        AccessService access = new AccessService(rows, workspaces);
        LifecycleService lifecycle = LifecycleService.builder(rows).build();
        ControlPlaneServer.RunningControlPlane server = ControlPlaneServer.builder(lifecycle, access)
                .tcp("127.0.0.1", 0).build().start().block(TIMEOUT);
        try {
            String identity = access.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
            lifecycle.startBuild("ws").block(TIMEOUT);
            Lifecycle agent = Lifecycle.create(Clock.systemUTC());
            Disposable reporting = LifecycleReporter.builder(agent).build()
                    .report(AgentConnector.builder(ControlPlaneAddress.tcp("127.0.0.1", server.tcpAddress().getPort()),
                            identity).build().sessions())
                    .subscribe();
            agent.transitionTo(LifecycleState.STARTING);
            lifecycle.watch("ws").filter(row -> row.state() == LifecycleState.STARTING).blockFirst(TIMEOUT);
            assertThat(captured).hasSizeGreaterThanOrEqualTo(3);

            captured.forEach(RetentionTest::collectWhileOpen);

            assertThat(server.openChannels(lifecycle.latestRow("ws").block(TIMEOUT).agentId())).isEqualTo(1);
            reporting.dispose();
        } finally {
            server.disposeNow(TIMEOUT);
        }
    }

    /** Collects garbage until {@code reference} is cleared, for ten seconds at most; fails if it is not. */
    private static void collectWhileOpen(WeakReference<Object> reference) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (reference.get() != null && System.nanoTime() < deadline) {
            System.gc();
            Thread.onSpinWait();
        }
        assertThat(reference.get()).as("collected while the connection is open").isNull();
    }
}
