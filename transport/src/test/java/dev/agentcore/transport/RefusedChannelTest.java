package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import io.rsocket.RSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
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
                StepVerifier.create(rsocket.requestChannel(Flux.just(
                                        RSocketClients.routed("agent.v1.nope", new byte[0]),
                                        RSocketClients.routed("agent.v1.nope", new byte[] {1})))
                                .onErrorMap(WireErrors::fromWire))
                        .expectErrorSatisfies(error -> assertThat(error).isInstanceOf(AgentcoreException.class)
                                .extracting(refusal -> ((AgentcoreException) refusal).code())
                                .isEqualTo(ErrorCode.INVALID_ARGUMENT))
                        .verify(TIMEOUT);
            }
            // The server drops such an error before it sends the refusal: by now it would be here.
            assertThat(dropped).isEmpty();
            rsocket.dispose();
        } finally {
            Hooks.resetOnErrorDropped();
        }
    }
}
