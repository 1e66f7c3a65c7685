package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
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
import dev.agentcore.core.testing.ForwardingAgentStore;
import dev.agentcore.transport.proto.v1.ExchangeRequest;
import dev.agentcore.transport.proto.v1.ExchangeResponse;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketConnector;
import io.rsocket.frame.decoder.PayloadDecoder;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.util.DefaultPayload;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.tcp.TcpClient;
import reactor.test.StepVerifier;

/**
 * Peers that never authenticate cannot exhaust the control plane: real sockets against a real
 * server, each cap and deadline met with a clear answer while authenticated peers keep working.
 * (The deadlines' arithmetic is in {@link ConnectionGateTest}, in virtual time; the lock-out with
 * an open-file limit, across processes, is in the examples' LockOutTest.)
 */
class ExhaustionTest {

    private static final Duration TIMEOUT = ControlPlaneFixture.TIMEOUT;

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private ControlPlaneFixture fixture;

    private ControlPlaneFixture start(UnaryOperator<ControlPlaneServer.Builder> customize) {
        fixture = new ControlPlaneFixture(builder -> customize.apply(builder.meterRegistry(meters)));
        return fixture;
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable closeable : toClose) {
            closeable.close();
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    private void awaitOpen(String stage, int count) {
        StepVerifier.create(Flux.interval(Duration.ofMillis(5))
                        .filter(tick -> meters.get("agentcore.connections.open").tag("stage", stage).gauge().value() == count)
                        .take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
    }

    private double refused(ConnectionGate.Refusal reason) {
        return meters.get("agentcore.connections.refused").tag("reason", reason.tag()).counter().count();
    }

    /** A raw TCP connection to the control plane from {@code sourceHost} (any 127.x address of this machine). */
    private Socket raw(String sourceHost) throws IOException {
        Socket socket = new Socket();
        toClose.add(socket);
        socket.bind(new InetSocketAddress(sourceHost, 0));
        socket.connect(new InetSocketAddress("127.0.0.1", fixture.tcp().port()), (int) TIMEOUT.toMillis());
        socket.setSoTimeout((int) TIMEOUT.toMillis());
        return socket;
    }

    /** Everything the server sends until it closes the connection (fails the test if it does not). */
    private static String readUntilClosed(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        for (int n; (n = in.read(buffer)) >= 0; ) {
            received.write(buffer, 0, n);
        }
        return received.toString(StandardCharsets.ISO_8859_1);
    }

    private RSocket rsocketFrom(String sourceHost, String token, Duration interval, Duration maxLifetime) {
        TcpClient client = TcpClient.create().host("127.0.0.1").port(fixture.tcp().port())
                .bindAddress(() -> new InetSocketAddress(sourceHost, 0));
        RSocketConnector connector = RSocketConnector.create()
                .metadataMimeType(WireMetadata.COMPOSITE)
                .dataMimeType(Routes.DATA_MIME_TYPE)
                .keepAlive(interval, maxLifetime)
                .payloadDecoder(PayloadDecoder.DEFAULT);
        if (token != null) {
            connector.setupPayload(DefaultPayload.create(new byte[0], WireMetadata.encode(null, token)));
        }
        RSocket rsocket = connector.connect(TcpClientTransport.create(client)).block(TIMEOUT);
        toClose.add(rsocket::dispose);
        return rsocket;
    }

    private static Mono<ExchangeResponse> exchange(RSocket rsocket, String identity) {
        return RSocketClients.requestResponse(rsocket, Routes.EXCHANGE,
                ExchangeRequest.newBuilder().setInstanceIdentity(identity).build().toByteArray(),
                data -> ProtoCodec.parse(ExchangeResponse::parseFrom, data, "ExchangeResponse"));
    }

    private static Consumer<Throwable> refusal(ErrorCode code, String message) {
        return error -> assertThat(error).isInstanceOfSatisfying(AgentcoreException.class, refused -> {
            assertThat(refused.code()).isEqualTo(code);
            assertThat(refused.getMessage()).contains(message);
        });
    }

    @Test
    void aConnectionThatSendsNoSetupIsClosedAtTheDeadlineWithTheReason() throws IOException {
        start(builder -> builder.setupTimeout(Duration.ofMillis(300)));
        Socket silent = raw("127.0.0.1");

        assertThat(readUntilClosed(silent)).contains("INVALID_ARGUMENT: no SETUP frame within 300 ms");
        assertThat(refused(ConnectionGate.Refusal.SETUP_TIMEOUT)).isEqualTo(1);
    }

    @Test
    void aWebSocketConnectionThatNeverUpgradesIsClosedAtTheDeadline() throws IOException {
        start(builder -> builder.setupTimeout(Duration.ofMillis(300)));
        Socket silent = new Socket();
        toClose.add(silent);
        silent.connect(new InetSocketAddress("127.0.0.1",
                fixture.address(ControlPlaneAddress.Transport.WEBSOCKET).port()), (int) TIMEOUT.toMillis());
        silent.setSoTimeout((int) TIMEOUT.toMillis());

        assertThat(readUntilClosed(silent)).isEmpty();
        assertThat(refused(ConnectionGate.Refusal.SETUP_TIMEOUT)).isEqualTo(1);
    }

    @Test
    void aSetupAskingForAHugeKeepaliveIsRejectedNamingTheBounds() {
        start(UnaryOperator.identity());
        String identity = fixture.workspaceWithBuild("ws");
        RSocket greedy = rsocketFrom("127.0.0.1", null, Duration.ofMillis(Integer.MAX_VALUE),
                Duration.ofMillis(Integer.MAX_VALUE));

        StepVerifier.create(exchange(greedy, identity))
                .expectErrorSatisfies(refusal(ErrorCode.INVALID_ARGUMENT, "keepalive interval 2147483647 ms is outside "
                        + "this control plane's bounds of 100 to 60000 ms"))
                .verify(TIMEOUT);
        StepVerifier.create(greedy.onClose())
                .expectErrorSatisfies(error -> assertThat(error).hasMessageContaining("keepalive interval"))
                .verify(TIMEOUT);
        assertThat(refused(ConnectionGate.Refusal.KEEPALIVE)).isEqualTo(1);
    }

    @Test
    void aSilentConnectionWithoutATokenIsClosedAfterTheIdleTime() {
        start(builder -> builder.anonymousLimits(4, Duration.ofMillis(300), Duration.ofSeconds(30)));
        RSocket silent = rsocketFrom("127.0.0.1", null, Duration.ofSeconds(5), Duration.ofSeconds(15));

        // The peer is told why, on stream 0, as the connection ends.
        StepVerifier.create(silent.onClose())
                .expectErrorSatisfies(error -> assertThat(error).hasMessage(
                        "RESOURCE_EXHAUSTED: a connection without a token is closed after 300 ms without a request"))
                .verify(TIMEOUT);
        assertThat(refused(ConnectionGate.Refusal.ANONYMOUS_IDLE)).isEqualTo(1);
    }

    @Test
    void aConnectionWithoutATokenMayExchangeOnlyAFewTimes() {
        start(UnaryOperator.identity());
        String identity = fixture.workspaceWithBuild("ws");
        RSocket anonymous = rsocketFrom("127.0.0.1", null, Duration.ofSeconds(5), Duration.ofSeconds(15));
        for (int i = 0; i < 4; i++) {
            StepVerifier.create(exchange(anonymous, identity)).expectNextCount(1).verifyComplete();
        }
        StepVerifier.create(exchange(anonymous, identity))
                .expectErrorSatisfies(refusal(ErrorCode.RESOURCE_EXHAUSTED, "a connection without a token may make 4 exchanges"))
                .verify(TIMEOUT);
    }

    @Test
    void oneAddressPastItsShareIsRefusedAtOnceWhileOthersConnect() throws IOException {
        start(builder -> builder.connectionLimits(100, 20, 3));
        String identity = fixture.workspaceWithBuild("ws");
        for (int i = 0; i < 3; i++) {
            raw("127.0.0.2");
        }
        // A handshake completes in the kernel before the server admits the connection, and admissions run
        // on several event loops: wait for all three, so that the fourth is the one past the share.
        awaitOpen("pending", 3);

        RSocket fourth = rsocketFrom("127.0.0.2", null, Duration.ofSeconds(5), Duration.ofSeconds(15));
        StepVerifier.create(exchange(fourth, identity))
                .expectErrorSatisfies(refusal(ErrorCode.RESOURCE_EXHAUSTED,
                        "127.0.0.2 holds 3 connections that have not authenticated"))
                .verify(TIMEOUT);
        RSocket neighbour = rsocketFrom("127.0.0.1", null, Duration.ofSeconds(5), Duration.ofSeconds(15));
        StepVerifier.create(exchange(neighbour, identity)).expectNextCount(1).verifyComplete();
        assertThat(refused(ConnectionGate.Refusal.UNAUTHENTICATED_PER_ADDRESS)).isEqualTo(1);
    }

    @Test
    void anAgentReachesReadyAndCrossesABuildBoundaryWhileStrangersHoldEveryUnauthenticatedSlot() throws IOException {
        start(builder -> builder.connectionLimits(200, 40, 10));
        String identity = fixture.workspaceWithBuild("dev");
        // Eight addresses, ten idle connections each: twice the unauthenticated share.
        for (int host = 2; host < 10; host++) {
            for (int i = 0; i < 10; i++) {
                raw("127.0.0." + host);
            }
        }

        Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
        Disposable agent = LifecycleReporter.builder(lifecycle).build()
                .report(AgentConnector.builder(fixture.tcp(), identity).build().sessions()).subscribe();
        toClose.add(agent::dispose);
        lifecycle.transitionTo(LifecycleState.STARTING);
        lifecycle.transitionTo(LifecycleState.READY);
        awaitState("dev", 1, LifecycleState.READY);

        fixture.lifecycle.startBuild("dev").block(TIMEOUT);
        awaitState("dev", 2, LifecycleState.READY);
        assertThat(refused(ConnectionGate.Refusal.UNAUTHENTICATED_EVICTED)).isGreaterThanOrEqualTo(40);
    }

    private void awaitState(String workspace, long build, LifecycleState state) {
        StepVerifier.create(fixture.lifecycle.watch(workspace)
                        .filter(row -> row.buildNumber() == build && row.state() == state).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
    }

    @Test
    void pastTheStreamCapANewStreamIsRefusedAndAClosedOneFreesItsPlace() {
        start(builder -> builder.streamLimits(2, 2));
        fixture.workspaceWithBuild("ws");
        try (AdminClient admin = fixture.admin()) {
            Disposable first = openWatch(admin);
            Disposable second = openWatch(admin);

            StepVerifier.create(admin.watch("ws"))
                    .expectErrorSatisfies(refusal(ErrorCode.RESOURCE_EXHAUSTED, "more than 2 streams open at once"))
                    .verify(TIMEOUT);
            first.dispose();
            // The cancel reaches the server a moment later: retry until the freed place is seen, with a deadline.
            StepVerifier.create(Mono.defer(() -> admin.watch("ws").next())
                            .retryWhen(reactor.util.retry.Retry.fixedDelay(100, Duration.ofMillis(50))))
                    .expectNextCount(1).verifyComplete();
            second.dispose();
        }
        assertThat(refused(ConnectionGate.Refusal.STREAMS)).isGreaterThanOrEqualTo(1);
    }

    /** Opens a watch and waits for its first row: the stream is then open on the server. */
    private static Disposable openWatch(AdminClient admin) {
        Disposable[] connection = new Disposable[1];
        Flux<AgentRow> watch = admin.watch("ws").replay(1).autoConnect(1, opened -> connection[0] = opened);
        assertThat(watch.blockFirst(TIMEOUT)).isNotNull();
        return connection[0];
    }

    @Test
    void pastTheRequestCapANewRequestIsRefusedAtOnce() {
        Sinks.Empty<Void> release = Sinks.empty();
        Sinks.Empty<Void> entered = Sinks.empty();
        AgentStore held = new HeldBuilds(new InMemoryAgentStore(), entered, release.asMono());
        LifecycleService lifecycle = LifecycleService.builder(held).build();
        AccessService access = new AccessService(held, new InMemoryWorkspaceStore());
        access.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
        ControlPlaneServer.RunningControlPlane running = ControlPlaneServer.builder(lifecycle, access)
                .tcp("127.0.0.1", 0).adminToken(ControlPlaneFixture.ADMIN_TOKEN).streamLimits(2, 1)
                .meterRegistry(meters).build().start().block(TIMEOUT);
        toClose.add(running::dispose);
        try (AdminClient admin = AdminClient.connect(ControlPlaneAddress.tcp("127.0.0.1", running.tcpAddress().getPort()),
                ControlPlaneFixture.ADMIN_TOKEN).block(TIMEOUT)) {
            Mono<AgentRow> first = admin.startBuild("ws").cache();
            Disposable waiting = first.subscribe();
            StepVerifier.create(entered.asMono()).expectComplete().verify(TIMEOUT);

            StepVerifier.create(admin.startBuild("ws"))
                    .expectErrorSatisfies(refusal(ErrorCode.RESOURCE_EXHAUSTED, "more than 1 requests in flight"))
                    .verify(TIMEOUT);
            release.tryEmitEmpty().orThrow();
            StepVerifier.create(first).expectNextCount(1).verifyComplete();
            waiting.dispose();
        }
        assertThat(refused(ConnectionGate.Refusal.REQUESTS)).isEqualTo(1);
    }

    /** A store whose builds wait for a signal: a request held in flight on the server. */
    private static final class HeldBuilds extends ForwardingAgentStore {
        private final Sinks.Empty<Void> entered;
        private final Mono<Void> release;

        HeldBuilds(AgentStore delegate, Sinks.Empty<Void> entered, Mono<Void> release) {
            super(delegate);
            this.entered = entered;
            this.release = release;
        }

        @Override
        public Mono<AgentRow> startBuild(String workspace, long scriptsRevision, Instant createdAt) {
            return Mono.defer(() -> {
                Sinks.EmitResult signalled = entered.tryEmitEmpty();
                // The first build signals; a later one finds it signalled already.
                assertThat(signalled).isIn(Sinks.EmitResult.OK, Sinks.EmitResult.FAIL_TERMINATED);
                return release.then(delegate.startBuild(workspace, scriptsRevision, createdAt));
            });
        }
    }
}
