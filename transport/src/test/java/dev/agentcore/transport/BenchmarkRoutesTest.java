package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AgentRow;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** The two routes the benchmarks lean on: the changes firehose and the opt-in echo baseline. */
class BenchmarkRoutesTest {

    private static Consumer<Throwable> code(ErrorCode expected) {
        return error -> assertThat(error).isInstanceOfSatisfying(AgentcoreException.class,
                refusal -> assertThat(refusal.code()).isEqualTo(expected));
    }

    @Test
    void changesStreamsEveryWorkspacesRowChangesToTheAdmin() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture(); AdminClient admin = fixture.admin()) {
            fixture.workspaceWithBuild("a");
            fixture.workspaceWithBuild("b");

            StepVerifier.create(admin.changes().filter(AgentRow::active).map(row -> row.workspace() + "/" + row.buildNumber()))
                    .expectSubscription()
                    // Give the subscription time to reach the server before the builds start.
                    .expectNoEvent(Duration.ofMillis(200))
                    .then(() -> {
                        fixture.lifecycle.startBuild("a").block(TIMEOUT);
                        fixture.lifecycle.startBuild("b").block(TIMEOUT);
                    })
                    .expectNext("a/2", "b/2")
                    .thenCancel()
                    .verify(TIMEOUT);
        }
    }

    @Test
    void changesRefuseAnAgentsSessionToken() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture()) {
            String identity = fixture.workspaceWithBuild("ws");
            String token = fixture.access.exchange(identity).block(TIMEOUT).sessionToken();
            var agent = RSocketClients.connect(fixture.tcp(), token, Duration.ofSeconds(5), Duration.ofSeconds(15))
                    .block(TIMEOUT);
            StepVerifier.create(RSocketClients.requestStream(agent, Routes.CHANGES, new byte[0], ProtoCodec::decodeRow))
                    .expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED))
                    .verify(TIMEOUT);
            agent.dispose();
        }
    }

    @Test
    void echoReturnsEveryPayloadWhenTheServerEnablesIt() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture(builder -> builder.echoRoute(true));
             AdminClient admin = fixture.admin()) {
            StepVerifier.create(admin.echo(Flux.just(new byte[10], new byte[70], new byte[0])))
                    .expectNext(10, 70, 0)
                    .verifyComplete();
        }
    }

    @Test
    void echoIsAnUnknownRouteUnlessEnabled() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture(); AdminClient admin = fixture.admin()) {
            StepVerifier.create(admin.echo(Flux.just(new byte[10])))
                    .expectErrorSatisfies(code(ErrorCode.INVALID_ARGUMENT))
                    .verify(TIMEOUT);
        }
    }

    @Test
    void echoRefusesAnAgentsSessionToken() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture(builder -> builder.echoRoute(true))) {
            String identity = fixture.workspaceWithBuild("ws");
            String token = fixture.access.exchange(identity).block(TIMEOUT).sessionToken();
            var agent = RSocketClients.connect(fixture.tcp(), token, Duration.ofSeconds(5), Duration.ofSeconds(15))
                    .block(TIMEOUT);
            StepVerifier.create(agent.requestChannel(Flux.just(RSocketClients.routed(Routes.ECHO, new byte[0]),
                                    io.rsocket.util.DefaultPayload.create(new byte[3])))
                            .onErrorMap(WireErrors::fromWire))
                    .expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED))
                    .verify(TIMEOUT);
            assertThat(fixture.latest("ws").state()).isEqualTo(LifecycleState.CREATED);
            agent.dispose();
        }
    }
}
