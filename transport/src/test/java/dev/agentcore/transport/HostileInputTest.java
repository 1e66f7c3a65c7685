package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.transport.proto.v1.ChainId;
import dev.agentcore.transport.proto.v1.ExchangeRequest;
import dev.agentcore.transport.proto.v1.WorkspaceRequest;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketConnector;
import io.rsocket.frame.decoder.PayloadDecoder;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.util.DefaultPayload;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Hostile input against a running control plane: a corpus of malformed and adversarial frames,
 * and a seeded fuzz of random ones. Each gets a clear error; the offender's row is untouched; a
 * well-behaved agent connected at the same time carries on; the server logs no error and leaks
 * no buffer (Netty leak detection runs at paranoid in this module).
 *
 * <p>{@code -Dagentcore.fuzz.frames=N} and {@code -Dagentcore.fuzz.seed=S} size and seed the fuzz.
 */
class HostileInputTest {

    private static final byte[] NOTHING = new byte[0];

    private final ControlPlaneFixture fixture = new ControlPlaneFixture(builder -> builder.updateRateLimit(100_000, 100_000));
    private final ListAppender<ILoggingEvent> errors = new ListAppender<>();
    private final List<ReporterEvent> goodEvents = new CopyOnWriteArrayList<>();
    private Lifecycle good;
    private Disposable goodAgent;
    private AgentRow badRow;
    private String badToken;
    private RSocket bad;
    /** The bad workspace's agent on protocol v2: a connection token, each channel bound to the bad row. */
    private RSocket badV2;
    private String badConnectionToken;

    @BeforeEach
    void connect() {
        errors.setContext((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory());
        errors.addFilter(new ch.qos.logback.core.filter.Filter<>() {
            @Override
            public ch.qos.logback.core.spi.FilterReply decide(ILoggingEvent event) {
                return event.getLevel().isGreaterOrEqual(Level.ERROR)
                        ? ch.qos.logback.core.spi.FilterReply.NEUTRAL : ch.qos.logback.core.spi.FilterReply.DENY;
            }
        });
        errors.start();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(errors);

        String goodIdentity = fixture.workspaceWithBuild("good");
        String badIdentity = fixture.workspaceWithBuild("bad");
        badRow = fixture.latest("bad");
        good = Lifecycle.create(Clock.systemUTC());
        goodAgent = LifecycleReporter.builder(good).build()
                .report(AgentConnector.builder(fixture.tcp(), goodIdentity).build().sessions())
                .subscribe(goodEvents::add);
        good.transitionTo(LifecycleState.STARTING);
        awaitState("good", LifecycleState.STARTING);
        badToken = fixture.access.exchange(badIdentity).block(TIMEOUT).sessionToken();
        bad = RSocketClients.connect(fixture.tcp(), badToken).block(TIMEOUT);
        badConnectionToken = fixture.access.exchangeForConnection(badIdentity).block(TIMEOUT).connectionToken();
        badV2 = new BoundToRow(RSocketClients.connect(fixture.tcp(), badConnectionToken).block(TIMEOUT), badRow.agentId());
    }

    /**
     * A v2 connection that turns a v1 lifecycle channel's opening payload into a v2 one bound to
     * {@code agentId}, so that every case of the corpus runs on protocol v2 as well.
     */
    private static final class BoundToRow extends io.rsocket.util.RSocketProxy {
        private final dev.agentcore.core.AgentId agentId;

        BoundToRow(RSocket connection, dev.agentcore.core.AgentId agentId) {
            super(connection);
            this.agentId = agentId;
        }

        @Override
        public Flux<Payload> requestChannel(org.reactivestreams.Publisher<Payload> payloads) {
            return super.requestChannel(Flux.from(payloads).index().map(indexed -> {
                Payload payload = indexed.getT2();
                if (indexed.getT1() == 0 && payload.hasMetadata()
                        && Routes.LIFECYCLE.equals(WireMetadata.route(payload.metadata()))) {
                    payload.release();
                    return RSocketClients.routed(Routes.LIFECYCLE_V2, ProtoCodec.encodeBinding(agentId));
                }
                return payload;
            }));
        }
    }

    @AfterEach
    void stop() {
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(errors);
        goodAgent.dispose();
        bad.dispose();
        badV2.dispose();
        fixture.close();
    }

    private void awaitState(String workspace, LifecycleState state) {
        try (AdminClient admin = fixture.admin()) {
            StepVerifier.create(admin.watch(workspace).filter(row -> row.state() == state).take(1))
                    .expectNextCount(1).expectComplete().verify(TIMEOUT);
        }
    }

    /** After the attack: the good agent carries on, the bad row is untouched, nothing was logged as an error. */
    private void assertNobodyElseHarmed(long badRowVersion) {
        good.transitionTo(LifecycleState.READY);
        awaitState("good", LifecycleState.READY);
        assertThat(goodEvents).noneMatch(ReporterEvent.SessionEnded.class::isInstance);
        assertThat(fixture.rows.findRow(badRow.agentId()).block(TIMEOUT).version()).isEqualTo(badRowVersion);
        // Give paranoid leak detection a chance to report: collect, then allocate again.
        System.gc();
        StepVerifier.create(RSocketClients.requestResponse(bad, Routes.MANIFEST, NOTHING, data -> data))
                .expectNextCount(1).verifyComplete();
        assertThat(errors.list).extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    }

    // ---- the corpus ---------------------------------------------------------------------------

    /** One hostile frame (or short exchange) and the code it must be refused with. */
    record Hostile(String name, Function<RSocket, Publisher> send, ErrorCode expected) {
    }

    private static Publisher opened(RSocket rsocket, Payload opening, byte[]... updates) {
        List<Payload> frames = new ArrayList<>();
        frames.add(opening);
        for (byte[] update : updates) {
            frames.add(DefaultPayload.create(update));
        }
        return subscriber -> rsocket.requestChannel(Flux.fromIterable(frames))
                .<Object>map(payload -> RSocketClients.decode(payload, ProtoCodec::decodeAck))
                .onErrorMap(WireErrors::fromWire)
                .subscribe(subscriber);
    }

    /** Protocol v2's own hostile frames: bindings that must not bind, and its routes misused. */
    private List<Hostile> corpusOfV2() {
        ErrorCode invalid = ErrorCode.INVALID_ARGUMENT;
        byte[] starting = fields(chain("hostile", 0), seq(1), state(STARTING));
        dev.agentcore.core.AgentId goodRow = fixture.latest("good").agentId();
        List<Hostile> corpus = new ArrayList<>();
        corpus.add(new Hostile("binding to another workspace's row", rs -> opened(rs,
                RSocketClients.routed(Routes.LIFECYCLE_V2, ProtoCodec.encodeBinding(goodRow)), starting), ErrorCode.FENCED));
        corpus.add(new Hostile("binding to a row nobody created", rs -> opened(rs, RSocketClients.routed(Routes.LIFECYCLE_V2,
                ProtoCodec.encodeBinding(dev.agentcore.core.AgentId.random())), starting), ErrorCode.FENCED));
        corpus.add(new Hostile("binding naming no row", rs -> opened(rs,
                RSocketClients.routed(Routes.LIFECYCLE_V2, NOTHING), starting), invalid));
        corpus.add(new Hostile("binding of garbage", rs -> opened(rs,
                RSocketClients.routed(Routes.LIFECYCLE_V2, new byte[] {0x0A, 0x7F, 0x01}), starting), invalid));
        corpus.add(new Hostile("binding naming a row of 65 characters", rs -> opened(rs, RSocketClients.routed(
                Routes.LIFECYCLE_V2, dev.agentcore.transport.proto.v1.LifecycleBinding.newBuilder()
                        .setAgentId("r".repeat(65)).build().toByteArray()), starting), invalid));
        corpus.add(new Hostile("binding alone, as the only payload", rs -> opened(rs,
                RSocketClients.routed(Routes.LIFECYCLE_V2, ProtoCodec.encodeBinding(goodRow))), ErrorCode.FENCED));
        corpus.add(new Hostile("manifests as request-response", rs -> request(rs,
                WireMetadata.encode(Routes.MANIFESTS_V2, null), NOTHING), invalid));
        corpus.add(new Hostile("v2 exchange as request-stream", rs -> stream(rs, Routes.EXCHANGE_V2, NOTHING), invalid));
        corpus.add(new Hostile("v2 exchange of garbage", rs -> request(rs, WireMetadata.encode(Routes.EXCHANGE_V2, null),
                new byte[] {0x0A, 0x50, 0x01}), invalid));
        corpus.add(new Hostile("v2 lifecycle as request-response", rs -> request(rs,
                WireMetadata.encode(Routes.LIFECYCLE_V2, null), ProtoCodec.encodeBinding(goodRow)), invalid));
        return corpus;
    }

    /** A Flux or Mono of whatever the frame gets back. */
    interface Publisher extends org.reactivestreams.Publisher<Object> {
    }

    private static Publisher channel(RSocket rsocket, byte[]... updates) {
        List<Payload> frames = new ArrayList<>();
        frames.add(RSocketClients.routed(Routes.LIFECYCLE, NOTHING));
        for (byte[] update : updates) {
            frames.add(DefaultPayload.create(update));
        }
        return subscriber -> rsocket.requestChannel(Flux.fromIterable(frames))
                .<Object>map(payload -> RSocketClients.decode(payload, ProtoCodec::decodeAck))
                .onErrorMap(WireErrors::fromWire)
                .subscribe(subscriber);
    }

    private static Publisher request(RSocket rsocket, byte[] metadata, byte[] data) {
        return subscriber -> rsocket.requestResponse(DefaultPayload.create(data, metadata))
                .<Object>map(payload -> RSocketClients.decode(payload, buffer -> buffer))
                .onErrorMap(WireErrors::fromWire)
                .subscribe(subscriber);
    }

    private static Publisher stream(RSocket rsocket, String route, byte[] data) {
        return subscriber -> rsocket.requestStream(RSocketClients.routed(route, data))
                .<Object>map(payload -> RSocketClients.decode(payload, buffer -> buffer))
                .onErrorMap(WireErrors::fromWire)
                .subscribe(subscriber);
    }

    /** Encodes fields in the order given (protobuf allows any order), so that truncations stay invalid. */
    private static byte[] fields(FieldWriter... writers) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            for (FieldWriter writer : writers) {
                writer.write(out);
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    interface FieldWriter {
        void write(CodedOutputStream out) throws IOException;
    }

    private static FieldWriter chain(String incarnation, long generation) {
        return out -> out.writeMessage(1, ChainId.newBuilder().setIncarnation(incarnation).setGeneration(generation).build());
    }

    private static FieldWriter seq(long seq) {
        return out -> out.writeUInt64(2, seq);
    }

    private static FieldWriter state(int number) {
        return out -> out.writeEnum(3, number);
    }

    private static FieldWriter changedAt(long seconds, int nanos) {
        return out -> out.writeMessage(4, com.google.protobuf.Timestamp.newBuilder().setSeconds(seconds).setNanos(nanos).build());
    }

    private static final int STARTING = 2;

    private static List<Hostile> corpus() {
        List<Hostile> corpus = new ArrayList<>();
        ErrorCode invalid = ErrorCode.INVALID_ARGUMENT;
        // Every truncation of an update whose state comes last: never a complete update.
        byte[] whole = fields(seq(1), changedAt(1_800_000_000L, 5), chain("hostile", 0), state(STARTING));
        for (int cut = 1; cut < whole.length; cut++) {
            byte[] truncated = java.util.Arrays.copyOf(whole, cut);
            corpus.add(new Hostile("update truncated at byte " + cut, rs -> channel(rs, truncated), invalid));
        }
        // Wrong wire types for known fields, and lengths far past the frame.
        corpus.add(new Hostile("seq as a length-delimited field", rs -> channel(rs,
                fields(chain("h", 0), out -> out.writeBytes(2, ByteString.copyFromUtf8("1")), state(STARTING))), invalid));
        corpus.add(new Hostile("chain as a varint", rs -> channel(rs,
                fields(out -> out.writeUInt64(1, 7), seq(1), state(STARTING))), invalid));
        corpus.add(new Hostile("state as fixed64", rs -> channel(rs,
                fields(chain("h", 0), seq(1), out -> out.writeFixed64(3, STARTING))), invalid));
        corpus.add(new Hostile("chain claiming 2 GiB", rs -> channel(rs,
                new byte[] {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 0x01}), invalid));
        corpus.add(new Hostile("negative length", rs -> channel(rs, new byte[] {0x0A, (byte) 0xFF, (byte) 0xFF,
                (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01}), invalid));
        corpus.add(new Hostile("varint of eleven bytes", rs -> channel(rs, new byte[] {0x10, (byte) 0x80, (byte) 0x80,
                (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01}),
                invalid));
        corpus.add(new Hostile("group start tag", rs -> channel(rs, new byte[] {0x0B, 0x0C}), invalid));
        corpus.add(new Hostile("end-group without start", rs -> channel(rs, new byte[] {0x0C}), invalid));
        corpus.add(new Hostile("field number zero", rs -> channel(rs, new byte[] {0x00, 0x01}), invalid));
        // Unknown and forbidden values.
        for (int number : new int[] {10, 42, 1000, Integer.MAX_VALUE, -1}) {
            corpus.add(new Hostile("state number " + number, rs -> channel(rs,
                    fields(chain("h", 0), seq(1), state(number))), invalid));
        }
        corpus.add(new Hostile("state UNSPECIFIED", rs -> channel(rs, fields(chain("h", 0), seq(1), state(0))), invalid));
        corpus.add(new Hostile("CREATED from an agent", rs -> channel(rs, fields(chain("h", 0), seq(1), state(1))), invalid));
        corpus.add(new Hostile("no chain", rs -> channel(rs, fields(seq(1), state(STARTING))), invalid));
        corpus.add(new Hostile("blank incarnation", rs -> channel(rs, fields(chain("", 0), seq(1), state(STARTING))), invalid));
        corpus.add(new Hostile("incarnation of 200 characters", rs -> channel(rs,
                fields(chain("i".repeat(200), 0), seq(1), state(STARTING))), invalid));
        corpus.add(new Hostile("seq 0", rs -> channel(rs, fields(chain("h", 0), seq(0), state(STARTING))), invalid));
        corpus.add(new Hostile("seq past 2^63", rs -> channel(rs, fields(chain("h", 0), seq(-5), state(STARTING))), invalid));
        corpus.add(new Hostile("seq far ahead", rs -> channel(rs, fields(chain("h", 0), seq(1_000_000), state(STARTING))),
                ErrorCode.INVALID_TRANSITION));
        corpus.add(new Hostile("generation jump, then seq far ahead", rs -> channel(rs,
                fields(chain("h", 1L << 40), seq(77), state(STARTING))), ErrorCode.INVALID_TRANSITION));
        corpus.add(new Hostile("timestamp past Instant's range", rs -> channel(rs,
                fields(chain("h", 0), seq(1), changedAt(Long.MAX_VALUE, 0), state(STARTING))), invalid));
        corpus.add(new Hostile("negative nanos", rs -> channel(rs,
                fields(chain("h", 0), seq(1), changedAt(0, -1), state(STARTING))), invalid));
        corpus.add(new Hostile("nanos of a billion", rs -> channel(rs,
                fields(chain("h", 0), seq(1), changedAt(0, 1_000_000_000), state(STARTING))), invalid));
        corpus.add(new Hostile("payload over the limit", rs -> channel(rs, new byte[70 * 1024]), ErrorCode.RESOURCE_EXHAUSTED));
        // Routes and metadata.
        corpus.add(new Hostile("unknown route", rs -> request(rs, WireMetadata.encode("agent.v1.nope", null), NOTHING), invalid));
        corpus.add(new Hostile("empty route", rs -> request(rs, WireMetadata.encode("", null), NOTHING), invalid));
        corpus.add(new Hostile("route of 255 characters", rs -> request(rs,
                WireMetadata.encode("r".repeat(255), null), NOTHING), invalid));
        corpus.add(new Hostile("metadata without routing", rs -> request(rs, WireMetadata.encode(null, "token"), NOTHING),
                invalid));
        corpus.add(new Hostile("no metadata", rs -> request(rs, NOTHING, NOTHING), invalid));
        corpus.add(new Hostile("metadata not composite", rs -> request(rs, new byte[] {0x7F, 0x00, 0x00, 0x09, 1, 2}, NOTHING),
                invalid));
        corpus.add(new Hostile("lifecycle as request-response", rs -> request(rs,
                WireMetadata.encode(Routes.LIFECYCLE, null), NOTHING), invalid));
        corpus.add(new Hostile("exchange as request-stream", rs -> stream(rs, Routes.EXCHANGE, NOTHING), invalid));
        corpus.add(new Hostile("manifest as a channel", rs -> subscriber -> rs.requestChannel(
                        Flux.just(RSocketClients.routed(Routes.MANIFEST, NOTHING)))
                .<Object>map(p -> RSocketClients.decode(p, b -> b)).onErrorMap(WireErrors::fromWire).subscribe(subscriber),
                invalid));
        corpus.add(new Hostile("exchange with garbage", rs -> request(rs, WireMetadata.encode(Routes.EXCHANGE, null),
                new byte[] {0x0A, 0x50, 0x01}), invalid));
        corpus.add(new Hostile("exchange of an empty identity", rs -> request(rs, WireMetadata.encode(Routes.EXCHANGE, null),
                ExchangeRequest.newBuilder().build().toByteArray()), ErrorCode.UNAUTHENTICATED));
        // An agent's token on the admin routes.
        for (String route : new String[] {Routes.BUILDS_START, Routes.BUILDS_STOP, Routes.WORKSPACES_CREATE,
                Routes.WORKSPACES_UPDATE_SCRIPTS}) {
            corpus.add(new Hostile("agent token on " + route, rs -> request(rs, WireMetadata.encode(route, null),
                    WorkspaceRequest.newBuilder().setWorkspace("good").build().toByteArray()), ErrorCode.UNAUTHENTICATED));
        }
        corpus.add(new Hostile("agent token on watch", rs -> stream(rs, Routes.WATCH,
                WorkspaceRequest.newBuilder().setWorkspace("good").build().toByteArray()), ErrorCode.UNAUTHENTICATED));
        return corpus;
    }

    @Test
    void everyHostileFrameOfTheCorpusIsRefusedClearlyAndHarmsNobody() {
        List<Hostile> corpus = corpus();
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(50);
        refuseEach(corpus, bad);
        refuseEach(corpus, badV2);
        refuseEach(corpusOfV2(), badV2);
        // The v2 routes on a v1 session token.
        refuseEach(List.of(new Hostile("v2 manifests on a session token", rs -> stream(rs, Routes.MANIFESTS_V2, NOTHING),
                        ErrorCode.UNAUTHENTICATED),
                new Hostile("v2 lifecycle on a session token", rs -> opened(rs, RSocketClients.routed(Routes.LIFECYCLE_V2,
                        ProtoCodec.encodeBinding(badRow.agentId())), fields(chain("hostile", 0), seq(1), state(STARTING))),
                        ErrorCode.UNAUTHENTICATED)), bad);
        assertNobodyElseHarmed(badRow.version());
    }

    private void refuseEach(List<Hostile> corpus, RSocket connection) {
        for (Hostile hostile : corpus) {
            StepVerifier.create(Flux.from(hostile.send().apply(connection)))
                    .thenConsumeWhile(answer -> true)
                    .expectErrorSatisfies(error -> assertThat(error)
                            .as(hostile.name())
                            .isInstanceOfSatisfying(AgentcoreException.class, refusal -> {
                                assertThat(refusal.code()).as(hostile.name() + ": " + refusal).isEqualTo(hostile.expected());
                                assertThat(refusal.getMessage()).as(hostile.name()).isNotBlank()
                                        .doesNotContain(badToken).doesNotContain(badConnectionToken);
                            }))
                    .verify(TIMEOUT);
            assertThat(errors.list).as("errors logged by the server after: " + hostile.name())
                    .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
        }
    }

    @Test
    void badSetupFramesAreRejectedAndTheConnectionClosed() {
        Map<String, RSocketConnector> setups = Map.of(
                "data MIME type application/json", RSocketConnector.create()
                        .metadataMimeType(WireMetadata.COMPOSITE).dataMimeType("application/json"),
                "metadata MIME type text/plain", RSocketConnector.create()
                        .metadataMimeType("text/plain").dataMimeType(Routes.DATA_MIME_TYPE),
                "malformed composite metadata", RSocketConnector.create()
                        .metadataMimeType(WireMetadata.COMPOSITE).dataMimeType(Routes.DATA_MIME_TYPE)
                        .setupPayload(DefaultPayload.create(NOTHING, new byte[] {(byte) 0xFE, 0x00, 0x00, 0x40})),
                "bearer token that is empty", RSocketConnector.create()
                        .metadataMimeType(WireMetadata.COMPOSITE).dataMimeType(Routes.DATA_MIME_TYPE)
                        .setupPayload(DefaultPayload.create(NOTHING, WireMetadata.encode(null, ""))));
        for (Map.Entry<String, RSocketConnector> setup : setups.entrySet()) {
            RSocket rsocket = setup.getValue().payloadDecoder(PayloadDecoder.DEFAULT)
                    .connect(TcpClientTransport.create("127.0.0.1", fixture.tcp().port())).block(TIMEOUT);
            StepVerifier.create(rsocket.requestResponse(RSocketClients.routed(Routes.MANIFEST, NOTHING)))
                    .expectErrorSatisfies(error -> assertThat(error).as(setup.getKey())
                            .isInstanceOf(io.rsocket.exceptions.RejectedSetupException.class))
                    .verify(TIMEOUT);
            // The connection is closed after the refusal (onClose terminates, with the refusal or without).
            StepVerifier.create(rsocket.onClose().onErrorResume(error -> Mono.empty())).expectComplete().verify(TIMEOUT);
        }
        assertNobodyElseHarmed(badRow.version());
    }

    @Test
    void aSetupIsRefusedWithTheMimeTypeItShouldHaveSent() {
        RSocket rsocket = RSocketConnector.create().metadataMimeType(WireMetadata.COMPOSITE).dataMimeType("application/json")
                .connect(TcpClientTransport.create("127.0.0.1", fixture.tcp().port())).block(TIMEOUT);

        StepVerifier.create(rsocket.requestResponse(RSocketClients.routed(Routes.MANIFEST, NOTHING)))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOf(io.rsocket.exceptions.RejectedSetupException.class)
                        .hasMessageContaining("data MIME type must be application/x-protobuf")
                        .hasMessageContaining("was 'application/json'"))
                .verify(TIMEOUT);
        rsocket.dispose();
    }

    @Test
    void mimeTypesWithParametersOrAnotherCaseAreAccepted() {
        for (String[] types : new String[][] {
                {WireMetadata.COMPOSITE, "application/x-protobuf; proto=dev.agentcore.v1.LifecycleUpdate"},
                {WireMetadata.COMPOSITE.toUpperCase(java.util.Locale.ROOT) + ";v=1", "Application/X-Protobuf"}}) {
            RSocket rsocket = RSocketConnector.create().metadataMimeType(types[0]).dataMimeType(types[1])
                    .connect(TcpClientTransport.create("127.0.0.1", fixture.tcp().port())).block(TIMEOUT);

            // An anonymous connection: the exchange route answers (a refusal of the identity, not of the SETUP).
            StepVerifier.create(RSocketClients.requestResponse(rsocket, Routes.EXCHANGE,
                            ExchangeRequest.newBuilder().setInstanceIdentity("not-an-identity").build().toByteArray(),
                            data -> data))
                    .expectErrorSatisfies(error -> assertThat(error).as(String.join(" and ", types))
                            .isInstanceOfSatisfying(AgentcoreException.class,
                                    refusal -> assertThat(refusal.code()).isEqualTo(ErrorCode.UNAUTHENTICATED)))
                    .verify(TIMEOUT);
            rsocket.dispose();
        }
    }

    /**
     * Sized by its frame count, not by a deadline: with Netty's paranoid leak detection it takes
     * about two minutes alone, and past the suite's three-minute safety net when the machine is
     * shared, so its own net is wider. It asserts answers, never speed.
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
    void seededFuzzOfRandomFramesGetsOnlyClearAnswers() throws IOException {
        long seed = Long.getLong("agentcore.fuzz.seed", 20261127L);
        int frames = Integer.getInteger("agentcore.fuzz.frames", 100_000);
        System.out.printf("HostileInputTest fuzz: %d frames, seed %d (-Dagentcore.fuzz.seed=%d)%n", frames, seed, seed);
        AtomicLong applied = new AtomicLong();
        Map<ErrorCode, AtomicLong> refusals = new EnumMap<>(ErrorCode.class);
        for (ErrorCode code : ErrorCode.values()) {
            refusals.put(code, new AtomicLong());
        }
        List<Throwable> unexpected = new CopyOnWriteArrayList<>();
        Flux.range(0, frames)
                .map(i -> new Random(seed * 1_000_003L + i))
                .flatMap(random -> Flux.from(randomFrame(random))
                        .doOnNext(answer -> {
                            if (answer instanceof dev.agentcore.core.LifecycleAck ack
                                    && ack.outcome() == dev.agentcore.core.LifecycleAck.Outcome.APPLIED) {
                                applied.incrementAndGet();
                            }
                        })
                        .onErrorResume(error -> {
                            if (error instanceof AgentcoreException refusal && refusal.code() != ErrorCode.INTERNAL) {
                                refusals.get(refusal.code()).incrementAndGet();
                            } else {
                                unexpected.add(error);
                            }
                            return Mono.empty();
                        }), 64)
                .blockLast(java.time.Duration.ofMinutes(9));
        System.out.println("HostileInputTest fuzz refusals: " + refusals + ", applied: " + applied);

        // Raw garbage on fresh TCP connections: not even RSocket frames.
        Random random = new Random(seed);
        for (int i = 0; i < 200; i++) {
            try (Socket socket = new Socket("127.0.0.1", fixture.tcp().port())) {
                byte[] garbage = new byte[1 + random.nextInt(512)];
                random.nextBytes(garbage);
                OutputStream out = socket.getOutputStream();
                out.write(garbage);
                out.flush();
            }
        }

        assertThat(unexpected).as("answers that were not a clear refusal").isEmpty();
        assertNobodyElseHarmed(badRow.version() + applied.get());
    }

    /** A random frame: random data on the lifecycle channel, or random metadata and data as a request. */
    private Publisher randomFrame(Random random) {
        byte[] data = new byte[random.nextInt(64)];
        random.nextBytes(data);
        return switch (random.nextInt(5)) {
            case 0 -> channel(bad, data);
            case 1 -> channel(badV2, data);
            case 2 -> {
                byte[] metadata = new byte[random.nextInt(32)];
                random.nextBytes(metadata);
                yield request(bad, metadata, data);
            }
            case 3 -> request(bad, WireMetadata.encode(
                    List.of(Routes.EXCHANGE, Routes.MANIFEST, Routes.BUILDS_START, "x").get(random.nextInt(4)), null), data);
            default -> random.nextBoolean()
                    ? request(badV2, WireMetadata.encode(List.of(Routes.EXCHANGE_V2, Routes.MANIFESTS_V2, Routes.LIFECYCLE_V2)
                            .get(random.nextInt(3)), null), data)
                    : opened(badV2, RSocketClients.routed(Routes.LIFECYCLE_V2, data), data);
        };
    }
}
