package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AgentRow;
import java.time.Duration;
import java.util.function.Consumer;
import io.rsocket.Payload;
import io.rsocket.util.DefaultPayload;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** What the benchmarks lean on: the changes firehose, and admin channel routes an embedding program adds (the echo baseline). */
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
            var agent = RSocketClients.connect(fixture.tcp(), token)
                    .block(TIMEOUT);
            StepVerifier.create(RSocketClients.requestStream(agent, Routes.CHANGES, new byte[0], ProtoCodec::decodeRow))
                    .expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED))
                    .verify(TIMEOUT);
            agent.dispose();
        }
    }

    /** What an embedding program (the benchmarks' control plane) adds: here an echo, as the bench's. */
    private static final String ECHO = "bench.v1.echo";

    private static Flux<Payload> echo(Flux<Payload> payloads) {
        return payloads.skip(1).map(payload -> DefaultPayload.create(payload.getData()));
    }

    private static Flux<Integer> sizes(AdminClient admin, String route, byte[]... payloads) {
        return admin.channel(route, Flux.fromArray(payloads).map(DefaultPayload::create)).map(payload -> {
            try {
                return payload.data().readableBytes();
            } finally {
                payload.release();
            }
        });
    }

    @Test
    void anAdminChannelRouteAddedByTheEmbeddingProgramServesTheAdmin() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture(builder -> builder.adminChannelRoute(ECHO,
                BenchmarkRoutesTest::echo));
             AdminClient admin = fixture.admin()) {
            StepVerifier.create(sizes(admin, ECHO, new byte[10], new byte[70], new byte[0]))
                    .expectNext(10, 70, 0)
                    .verifyComplete();
        }
    }

    @Test
    void aRouteNobodyAddedIsUnknown() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture(); AdminClient admin = fixture.admin()) {
            StepVerifier.create(sizes(admin, ECHO, new byte[10]))
                    .expectErrorSatisfies(code(ErrorCode.INVALID_ARGUMENT))
                    .verify(TIMEOUT);
        }
    }

    @Test
    void agentcoresOwnRoutesCannotBeTaken() {
        for (String route : new String[] {Routes.LIFECYCLE_V2, Routes.WATCH, "", "agent.v3.anything"}) {
            assertThatThrownBy(() -> ControlPlaneServer.builder(
                            dev.agentcore.core.control.LifecycleService.builder(
                                    new dev.agentcore.core.control.InMemoryAgentStore()).build(),
                            new dev.agentcore.core.control.AccessService(new dev.agentcore.core.control.InMemoryAgentStore(),
                                    new dev.agentcore.core.control.InMemoryWorkspaceStore()))
                    .adminChannelRoute(route, BenchmarkRoutesTest::echo))
                    .as(route).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void anAddedRouteRefusesAnAgentsSessionToken() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture(builder -> builder.adminChannelRoute(ECHO,
                BenchmarkRoutesTest::echo))) {
            String identity = fixture.workspaceWithBuild("ws");
            String token = fixture.access.exchange(identity).block(TIMEOUT).sessionToken();
            var agent = RSocketClients.connect(fixture.tcp(), token)
                    .block(TIMEOUT);
            StepVerifier.create(agent.requestChannel(Flux.just(RSocketClients.routed(ECHO, new byte[0]),
                                    DefaultPayload.create(new byte[3])))
                            .onErrorMap(WireErrors::fromWire))
                    .expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED))
                    .verify(TIMEOUT);
            assertThat(fixture.latest("ws").state()).isEqualTo(LifecycleState.CREATED);
            agent.dispose();
        }
    }
}
