package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.AgentStore;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.InMemoryWorkspaceStore;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.core.testing.ForwardingAgentStore;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * A refused channel ends with its error and nothing else: no error of rsocket-java's own is
 * pushed into an inbound our operators already ended, which Reactor would drop and log with its
 * stack trace, once per refused channel, as often as a peer cares to open one.
 */
class RefusedChannelTest {

    @Test
    void aChannelOnAnUnknownRouteIsRefusedAndNoErrorIsDropped() {
        List<Throwable> dropped = new CopyOnWriteArrayList<>();
        Hooks.onErrorDropped(dropped::add);
        try (ControlPlaneFixture fixture = new ControlPlaneFixture()) {
            RSocket rsocket = RSocketClients.connect(fixture.tcp(), ControlPlaneFixture.ADMIN_TOKEN).block(TIMEOUT);
            for (int channel = 0; channel < 20; channel++) {
                expectEndedWith(ErrorCode.INVALID_ARGUMENT, rsocket.requestChannel(Flux.just(
                        RSocketClients.routed("agent.v1.nope", new byte[0]),
                        RSocketClients.routed("agent.v1.nope", new byte[] {1}))));
            }
            // The server drops such an error before it sends the refusal: by now it would be here.
            assertThat(dropped).isEmpty();
            rsocket.dispose();
        } finally {
            Hooks.resetOnErrorDropped();
        }
    }

    @Test
    void aBindingTheStoreFailsToCheckEndsTheChannelWithAnErrorAndNoErrorIsDropped() {
        InMemoryAgentStore memory = new InMemoryAgentStore();
        AgentStore unreachableRows = new RowsUnreachable(memory);
        InMemoryWorkspaceStore workspaces = new InMemoryWorkspaceStore();
        AccessService access = new AccessService(unreachableRows, workspaces);
        LifecycleService lifecycle = LifecycleService.builder(unreachableRows).build();
        List<Throwable> dropped = new CopyOnWriteArrayList<>();
        Hooks.onErrorDropped(dropped::add);
        ControlPlaneServer.RunningControlPlane running = ControlPlaneServer.builder(lifecycle, access).tcp("127.0.0.1", 0)
                .adminToken(ControlPlaneFixture.ADMIN_TOKEN).build().start().block(TIMEOUT);
        try {
            String identity = access.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
            String token = access.exchangeForConnection(identity).block(TIMEOUT).connectionToken();
            RSocket rsocket = RSocketClients.connect(
                    ControlPlaneAddress.tcp("127.0.0.1", running.tcpAddress().getPort()), token).block(TIMEOUT);
            for (int channel = 0; channel < 20; channel++) {
                expectEndedWith(ErrorCode.INTERNAL, rsocket.requestChannel(Flux.just(
                        RSocketClients.routed(Routes.LIFECYCLE_V2, ProtoCodec.encodeBinding(AgentId.random())))));
            }
            assertThat(dropped).isEmpty();
            rsocket.dispose();
        } finally {
            running.disposeNow(TIMEOUT);
            Hooks.resetOnErrorDropped();
        }
    }

    /** Verifies that {@code channel} ends with an error of {@code code}, as the peer reads it. */
    private static void expectEndedWith(ErrorCode code, Flux<Payload> channel) {
        StepVerifier.create(channel.onErrorMap(WireErrors::fromWire))
                .expectErrorSatisfies(error -> assertThat(error).isInstanceOf(AgentcoreException.class)
                        .extracting(refusal -> ((AgentcoreException) refusal).code())
                        .isEqualTo(code))
                .verify(TIMEOUT);
    }

    /** The rows of an in-memory store, except that no row can be read: a store gone unreachable. */
    private static final class RowsUnreachable extends ForwardingAgentStore {
        RowsUnreachable(AgentStore delegate) {
            super(delegate);
        }

        @Override
        public Mono<AgentRow> findRow(AgentId agentId) {
            return Mono.error(new IllegalStateException("the store is unreachable"));
        }

        @Override
        public Mono<AgentRow> recentRow(AgentId agentId) {
            return findRow(agentId);
        }
    }
}
