package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.transport.proto.v1.ExchangeRequest;
import dev.agentcore.transport.proto.v1.ExchangeResponse;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketConnector;
import io.rsocket.frame.decoder.PayloadDecoder;
import io.rsocket.transport.netty.client.TcpClientTransport;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.netty.tcp.TcpClient;
import reactor.test.StepVerifier;

class SecurityTest {

    private static final int FAILURE_BURST = 5;

    // Many exchanges on one connection, to reach the per-address budget: more than a token-less
    // connection may make by default (ExhaustionTest holds that limit).
    private final ControlPlaneFixture fixture = new ControlPlaneFixture(
            builder -> builder.exchangeFailureLimit(0.001, FAILURE_BURST)
                    .anonymousLimits(100, Duration.ofSeconds(10), Duration.ofSeconds(30)));

    @AfterEach
    void stop() {
        fixture.close();
    }

    /** An anonymous connection from {@code sourceHost}, a loopback address of this machine. */
    private RSocket anonymousFrom(String sourceHost) {
        TcpClient client = TcpClient.create().host("127.0.0.1").port(fixture.tcp().port())
                .bindAddress(() -> new InetSocketAddress(sourceHost, 0));
        return RSocketConnector.create()
                .metadataMimeType(WireMetadata.COMPOSITE)
                .dataMimeType(Routes.DATA_MIME_TYPE)
                .payloadDecoder(PayloadDecoder.DEFAULT)
                .connect(TcpClientTransport.create(client))
                .block(TIMEOUT);
    }

    private static Mono<ExchangeResponse> exchange(RSocket rsocket, String identity) {
        return RSocketClients.requestResponse(rsocket, Routes.EXCHANGE,
                ExchangeRequest.newBuilder().setInstanceIdentity(identity).build().toByteArray(),
                data -> ProtoCodec.parse(ExchangeResponse::parseFrom, data, "ExchangeResponse"));
    }

    private static Consumer<Throwable> code(ErrorCode expected) {
        return error -> assertThat(error).isInstanceOfSatisfying(AgentcoreException.class,
                refusal -> assertThat(refusal.code()).isEqualTo(expected));
    }

    @Test
    void failedExchangesAreLimitedPerSourceAddress() {
        String identity = fixture.workspaceWithBuild("ws");
        RSocket guesser = anonymousFrom("127.0.0.1");
        for (int guess = 0; guess < FAILURE_BURST; guess++) {
            StepVerifier.create(exchange(guesser, "guess-" + guess))
                    .expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
        }

        // The budget is spent: even the right identity is refused from this address, without a lookup.
        StepVerifier.create(exchange(guesser, identity))
                .expectErrorSatisfies(code(ErrorCode.RESOURCE_EXHAUSTED)).verify(TIMEOUT);
        // Another address is not affected.
        RSocket neighbour = anonymousFrom("127.0.0.2");
        StepVerifier.create(exchange(neighbour, identity))
                .assertNext(response -> assertThat(response.getSessionToken()).isNotEmpty())
                .verifyComplete();
        guesser.dispose();
        neighbour.dispose();
    }

    @Test
    void failedConnectionExchangesSpendTheSameBudgetAsSessionExchanges() {
        String identity = fixture.workspaceWithBuild("ws");
        RSocket guesser = anonymousFrom("127.0.0.1");
        for (int guess = 0; guess < FAILURE_BURST; guess++) {
            StepVerifier.create(exchangeForConnection(guesser, "guess-" + guess))
                    .expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
        }

        StepVerifier.create(exchangeForConnection(guesser, identity))
                .expectErrorSatisfies(code(ErrorCode.RESOURCE_EXHAUSTED)).verify(TIMEOUT);
        StepVerifier.create(exchange(guesser, identity))
                .expectErrorSatisfies(code(ErrorCode.RESOURCE_EXHAUSTED)).verify(TIMEOUT);
        RSocket neighbour = anonymousFrom("127.0.0.2");
        StepVerifier.create(exchangeForConnection(neighbour, identity))
                .assertNext(grant -> assertThat(grant.workspace()).isEqualTo("ws"))
                .verifyComplete();
        guesser.dispose();
        neighbour.dispose();
    }

    private static Mono<ProtoCodec.ConnectionGrantAnswer> exchangeForConnection(RSocket rsocket, String identity) {
        return RSocketClients.requestResponse(rsocket, Routes.EXCHANGE_V2,
                ExchangeRequest.newBuilder().setInstanceIdentity(identity).build().toByteArray(),
                ProtoCodec::decodeConnectionGrant);
    }

    @Test
    void successfulExchangesCostNothing() {
        String identity = fixture.workspaceWithBuild("ws");
        RSocket agent = anonymousFrom("127.0.0.1");

        for (int i = 0; i < FAILURE_BURST * 4; i++) {
            StepVerifier.create(exchange(agent, identity)).expectNextCount(1).verifyComplete();
        }
        agent.dispose();
    }

    @Test
    void secretsNeverReachTheLogs() {
        Logger agentcore = (Logger) LoggerFactory.getLogger("dev.agentcore");
        Level level = agentcore.getLevel();
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        agentcore.addAppender(logs);
        agentcore.setLevel(Level.DEBUG);
        try {
            String identity = fixture.workspaceWithBuild("ws");
            String token = fixture.access.exchange(identity).block(TIMEOUT).sessionToken();
            Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
            Disposable agent = LifecycleReporter.builder(lifecycle).build()
                    .report(AgentConnector.builder(fixture.tcp(), identity).build().sessions()).subscribe();
            lifecycle.transitionTo(LifecycleState.STARTING);
            try (AdminClient admin = fixture.admin()) {
                StepVerifier.create(admin.watch("ws").filter(row -> row.state() == LifecycleState.STARTING).take(1))
                        .expectNextCount(1).expectComplete().verify(TIMEOUT);
            }
            // Refusals are logged (at debug): none may carry what was presented.
            RSocket wrong = RSocketClients.connect(fixture.tcp(), token + "x").block(TIMEOUT);
            StepVerifier.create(RSocketClients.requestResponse(wrong, Routes.MANIFEST, new byte[0], data -> data))
                    .expectError().verify(TIMEOUT);
            RSocket anonymous = RSocketClients.connect(fixture.tcp(), null).block(TIMEOUT);
            StepVerifier.create(exchange(anonymous, identity + "x")).expectError().verify(TIMEOUT);
            StepVerifier.create(exchangeForConnection(anonymous, identity + "y")).expectError().verify(TIMEOUT);
            // A connection token presented with a byte changed, and a valid one misused on a v1 route.
            String connectionToken = fixture.access.exchangeForConnection(identity).block(TIMEOUT).connectionToken();
            RSocket wrongConnection = RSocketClients.connect(fixture.tcp(), connectionToken + "x").block(TIMEOUT);
            StepVerifier.create(RSocketClients.requestStream(wrongConnection, Routes.MANIFESTS_V2, new byte[0], data -> data))
                    .expectError().verify(TIMEOUT);
            RSocket misused = RSocketClients.connect(fixture.tcp(), connectionToken).block(TIMEOUT);
            StepVerifier.create(RSocketClients.requestResponse(misused, Routes.MANIFEST, new byte[0], data -> data))
                    .expectError().verify(TIMEOUT);
            // A new identity, then the workspace deleted (its connections closed, which is logged), and
            // an admin token that is wrong: none of them may leave a secret in the logs either.
            String renewed;
            try (AdminClient admin = fixture.admin()) {
                renewed = admin.rotateIdentity("ws").block(TIMEOUT);
                admin.deleteWorkspace("ws").block(TIMEOUT);
            }
            StepVerifier.create(AdminClient.connect(fixture.tcp(), "wrong-admin-token-0123456789")
                            .flatMap(admin -> admin.workspaces().then().doFinally(signal -> admin.dispose())))
                    .expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
            agent.dispose();
            wrong.dispose();
            anonymous.dispose();
            wrongConnection.dispose();
            misused.dispose();

            assertThat(logs.list).isNotEmpty();
            assertThat(logs.list).allSatisfy(event -> assertThat(event.getFormattedMessage())
                    .doesNotContain(identity)
                    .doesNotContain(token)
                    .doesNotContain(connectionToken)
                    .doesNotContain(renewed)
                    .doesNotContain("wrong-admin-token-0123456789")
                    .doesNotContain(ControlPlaneFixture.ADMIN_TOKEN)
                    // Nor the agent's own connection token, which the test never sees: nothing shaped like a secret.
                    .doesNotContainPattern("[A-Za-z0-9_-]{43}"));
        } finally {
            agentcore.detachAppender(logs);
            agentcore.setLevel(level);
        }
    }
}
