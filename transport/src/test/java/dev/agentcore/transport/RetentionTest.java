package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.AgentStore;
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
        List<WeakReference<Object>> captured = new CopyOnWriteArrayList<>();
        InMemoryAgentStore rows = new InMemoryAgentStore();
        WorkspaceStore workspaces = new ForwardingWorkspaceStore(new InMemoryWorkspaceStore()) {
            @Override
            public Mono<StoredConnectionToken> findConnectionToken(String tokenHash) {
                return marked(captured, super.findConnectionToken(tokenHash));
            }
        };
        try (OneWorkspace server = OneWorkspace.start(rows, workspaces)) {
            String token = server.access.exchangeForConnection(server.identity).block(TIMEOUT).connectionToken();
            RSocket agent = RSocketClients.connect(server.address(), token).block(TIMEOUT);
            // Answered: the SETUP was accepted, and the connection is open while we look.
            RSocketClients.requestStream(agent, Routes.MANIFESTS_V2, new byte[0], data -> data).take(1).blockLast(TIMEOUT);
            assertThat(captured).hasSize(1);

            collectWhileOpen(captured.get(0));

            assertThat(agent.isDisposed()).isFalse();
            agent.dispose();
        }
    }

    @Test
    void anIdleLifecycleChannelKeepsNothingOfItsBindingOrItsLastUpdate() throws Exception {
        List<WeakReference<Object>> captured = new CopyOnWriteArrayList<>();
        // Every read and write of a row, by the binding, the fence's check and the update, marked.
        ForwardingAgentStore rows = new ForwardingAgentStore(new InMemoryAgentStore()) {
            @Override
            public Mono<Boolean> compareAndSet(AgentRow expected, AgentRow next) {
                return marked(captured, super.compareAndSet(expected, next));
            }

            @Override
            public Mono<AgentRow> recentRow(AgentId agentId) {
                return marked(captured, super.recentRow(agentId));
            }

            @Override
            public Mono<AgentRow> findRow(AgentId agentId) {
                return marked(captured, super.findRow(agentId));
            }
        };
        try (OneWorkspace server = OneWorkspace.start(rows, new InMemoryWorkspaceStore())) {
            Lifecycle agent = Lifecycle.create(Clock.systemUTC());
            Disposable reporting = LifecycleReporter.builder(agent).build()
                    .report(AgentConnector.builder(server.address(), server.identity).build().sessions())
                    .subscribe();
            agent.transitionTo(LifecycleState.STARTING);
            server.lifecycle.watch("ws").filter(row -> row.state() == LifecycleState.STARTING).blockFirst(TIMEOUT);
            assertThat(captured).hasSizeGreaterThanOrEqualTo(3);

            captured.forEach(RetentionTest::collectWhileOpen);

            assertThat(server.running.openChannels(server.lifecycle.latestRow("ws").block(TIMEOUT).agentId())).isEqualTo(1);
            reporting.dispose();
        }
    }

    /**
     * {@code call}, marked: an object only its subscribers refer to (made at subscription; what is
     * assembled once per channel lives as long as the channel anyway), watched through {@code captured}.
     */
    private static <T> Mono<T> marked(List<WeakReference<Object>> captured, Mono<T> call) {
        return Mono.defer(() -> {
            Object onlyInTheChain = new Object();
            captured.add(new WeakReference<>(onlyInTheChain));
            return call.filter(value -> onlyInTheChain != null);
        });
    }

    /** A control plane over these stores, with workspace "ws" and its first build. */
    private record OneWorkspace(AccessService access, LifecycleService lifecycle,
                                ControlPlaneServer.RunningControlPlane running, String identity) implements AutoCloseable {

        static OneWorkspace start(AgentStore rows, WorkspaceStore workspaces) {
            AccessService access = new AccessService(rows, workspaces);
            LifecycleService lifecycle = LifecycleService.builder(rows).build();
            ControlPlaneServer.RunningControlPlane running = ControlPlaneServer.builder(lifecycle, access)
                    .tcp("127.0.0.1", 0).build().start().block(TIMEOUT);
            String identity = access.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
            lifecycle.startBuild("ws").block(TIMEOUT);
            return new OneWorkspace(access, lifecycle, running, identity);
        }

        ControlPlaneAddress address() {
            return ControlPlaneAddress.tcp("127.0.0.1", running.tcpAddress().getPort());
        }

        @Override
        public void close() {
            running.disposeNow(TIMEOUT);
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
