package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.transport.proto.v1.ChainId;
import dev.agentcore.transport.proto.v1.LifecycleUpdate;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.util.DefaultPayload;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * Each bad input gets a clear error, and harms nobody else: a well-behaved agent connected at
 * the same time carries on, and the store holds nothing it should not.
 */
class BadInputTest {

    private static final int UPDATES_PER_SECOND = 5;

    enum BadInput {
        NOT_PROTOBUF(ErrorCode.INVALID_ARGUMENT, 1),
        UNKNOWN_ROUTE(ErrorCode.INVALID_ARGUMENT, 1),
        UNKNOWN_STATE(ErrorCode.INVALID_ARGUMENT, 1),
        UNSPECIFIED_STATE(ErrorCode.INVALID_ARGUMENT, 1),
        CREATED_FROM_AGENT(ErrorCode.INVALID_ARGUMENT, 1),
        OVERSIZED_PAYLOAD(ErrorCode.RESOURCE_EXHAUSTED, 1),
        // The flood's first update is legitimate and applied (one write); the rest are refused.
        UPDATE_FLOOD(ErrorCode.RESOURCE_EXHAUSTED, 2);

        final ErrorCode expected;
        final long rowVersionAfter;

        BadInput(ErrorCode expected, long rowVersionAfter) {
            this.expected = expected;
            this.rowVersionAfter = rowVersionAfter;
        }
    }

    private static LifecycleUpdate.Builder update(int seq) {
        return LifecycleUpdate.newBuilder()
                .setChain(ChainId.newBuilder().setIncarnation("bad-peer").setGeneration(0))
                .setSeq(seq)
                .setState(dev.agentcore.transport.proto.v1.LifecycleState.STARTING);
    }

    private static Flux<Object> channel(RSocket rsocket, List<Payload> updates) {
        List<Payload> frames = new ArrayList<>();
        frames.add(RSocketClients.routed(Routes.LIFECYCLE, new byte[0]));
        frames.addAll(updates);
        return rsocket.requestChannel(Flux.fromIterable(frames))
                .<Object>map(payload -> RSocketClients.decode(payload, ProtoCodec::decodeAck))
                .onErrorMap(WireErrors::fromWire);
    }

    private static Flux<Object> send(BadInput input, RSocket rsocket) {
        return switch (input) {
            case NOT_PROTOBUF -> channel(rsocket, List.of(DefaultPayload.create(new byte[] {0x0A, 0x7F, 0x01})));
            case UNKNOWN_ROUTE -> RSocketClients.requestResponse(rsocket, "agent.v1.nope", new byte[0], data -> data)
                    .map(Object.class::cast).flux();
            case UNKNOWN_STATE -> channel(rsocket,
                    List.of(DefaultPayload.create(update(1).setStateValue(42).build().toByteArray())));
            case UNSPECIFIED_STATE -> channel(rsocket,
                    List.of(DefaultPayload.create(update(1).setStateValue(0).build().toByteArray())));
            case CREATED_FROM_AGENT -> channel(rsocket, List.of(DefaultPayload.create(update(1)
                    .setState(dev.agentcore.transport.proto.v1.LifecycleState.CREATED).build().toByteArray())));
            case OVERSIZED_PAYLOAD -> channel(rsocket, List.of(DefaultPayload.create(update(1)
                    .setChain(ChainId.newBuilder().setIncarnation("x".repeat(70 * 1024))).build().toByteArray())));
            case UPDATE_FLOOD -> {
                List<Payload> flood = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    flood.add(DefaultPayload.create(update(1).build().toByteArray()));
                }
                yield channel(rsocket, flood);
            }
        };
    }

    private static void awaitState(AdminClient admin, String workspace, LifecycleState state) {
        StepVerifier.create(admin.watch(workspace).filter(row -> row.state() == state).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
    }

    @ParameterizedTest
    @EnumSource(BadInput.class)
    void badInputIsRefusedClearlyAndHarmsNobodyElse(BadInput input) {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture(
                builder -> builder.updateRateLimit(UPDATES_PER_SECOND, UPDATES_PER_SECOND));
             AdminClient admin = fixture.admin()) {
            String goodIdentity = fixture.workspaceWithBuild("good");
            String badIdentity = fixture.workspaceWithBuild("bad");
            AgentRow badRow = fixture.latest("bad");

            Lifecycle good = Lifecycle.create(Clock.systemUTC());
            List<ReporterEvent> goodEvents = new CopyOnWriteArrayList<>();
            Disposable goodAgent = LifecycleReporter.builder(good).build()
                    .report(AgentConnector.builder(fixture.tcp(), goodIdentity).build().sessions())
                    .subscribe(goodEvents::add);
            good.transitionTo(LifecycleState.STARTING);
            awaitState(admin, "good", LifecycleState.STARTING);

            String badToken = fixture.access.exchange(badIdentity).block(TIMEOUT).sessionToken();
            RSocket bad = RSocketClients.connect(fixture.tcp(), badToken)
                    .block(TIMEOUT);
            StepVerifier.create(send(input, bad))
                    .thenConsumeWhile(ack -> true)
                    .expectErrorSatisfies(error -> assertThat(error)
                            .isInstanceOfSatisfying(AgentcoreException.class,
                                    refusal -> assertThat(refusal.code()).isEqualTo(input.expected))
                            .hasMessageNotContaining(badToken))
                    .verify(TIMEOUT);

            // The well-behaved agent carries on, on the same session.
            good.transitionTo(LifecycleState.READY);
            awaitState(admin, "good", LifecycleState.READY);
            assertThat(goodEvents).noneMatch(ReporterEvent.SessionEnded.class::isInstance);

            // The offender's row holds nothing it should not.
            AgentRow badAfter = fixture.rows.findRow(badRow.agentId()).block(TIMEOUT);
            assertThat(badAfter.version()).isEqualTo(input.rowVersionAfter);
            assertThat(badAfter.state()).isIn(LifecycleState.CREATED, LifecycleState.STARTING);
            AgentId goodRow = fixture.latest("good").agentId();
            assertThat(fixture.rows.findRow(goodRow).block(TIMEOUT).state()).isEqualTo(LifecycleState.READY);

            bad.dispose();
            goodAgent.dispose();
        }
    }
}
