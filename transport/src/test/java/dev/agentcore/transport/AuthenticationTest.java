package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.ADMIN_TOKEN;
import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.transport.proto.v1.ChainId;
import dev.agentcore.transport.proto.v1.ExchangeRequest;
import dev.agentcore.transport.proto.v1.ExchangeResponse;
import dev.agentcore.transport.proto.v1.LifecycleUpdate;
import dev.agentcore.transport.proto.v1.WorkspaceRequest;
import io.rsocket.RSocket;
import io.rsocket.exceptions.RejectedSetupException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class AuthenticationTest {

    private final ControlPlaneFixture fixture = new ControlPlaneFixture();

    @AfterEach
    void stop() {
        fixture.close();
    }

    private RSocket connect(String token) {
        return RSocketClients.connect(fixture.tcp(), token).block(TIMEOUT);
    }

    private static Consumer<Throwable> code(ErrorCode expected) {
        return error -> assertThat(error).isInstanceOfSatisfying(AgentcoreException.class,
                refusal -> assertThat(refusal.code()).isEqualTo(expected));
    }

    private static Mono<?> manifest(RSocket rsocket) {
        return RSocketClients.requestResponse(rsocket, Routes.MANIFEST, new byte[0], ProtoCodec::decodeManifest);
    }

    private static Mono<?> startBuild(RSocket rsocket, String workspace) {
        return RSocketClients.requestResponse(rsocket, Routes.BUILDS_START,
                WorkspaceRequest.newBuilder().setWorkspace(workspace).build().toByteArray(), ProtoCodec::decodeRow);
    }

    private static Flux<?> lifecycle(RSocket rsocket, byte[] update) {
        return rsocket.requestChannel(Flux.just(RSocketClients.routed(Routes.LIFECYCLE, new byte[0]),
                        io.rsocket.util.DefaultPayload.create(update)))
                .map(payload -> RSocketClients.decode(payload, ProtoCodec::decodeAck))
                .onErrorMap(WireErrors::fromWire);
    }

    private static byte[] starting() {
        return LifecycleUpdate.newBuilder()
                .setChain(ChainId.newBuilder().setIncarnation("intruder").setGeneration(0))
                .setSeq(1)
                .setState(dev.agentcore.transport.proto.v1.LifecycleState.STARTING)
                .build().toByteArray();
    }

    private static Flux<Manifest> manifests(RSocket rsocket) {
        return RSocketClients.requestStream(rsocket, Routes.MANIFESTS_V2, new byte[0], ProtoCodec::decodeManifest);
    }

    private static Flux<?> boundLifecycle(RSocket rsocket, AgentId agentId, byte[] update) {
        return rsocket.requestChannel(Flux.just(RSocketClients.routed(Routes.LIFECYCLE_V2, ProtoCodec.encodeBinding(agentId)),
                        io.rsocket.util.DefaultPayload.create(update)))
                .map(payload -> RSocketClients.decode(payload, ProtoCodec::decodeAck))
                .onErrorMap(WireErrors::fromWire);
    }

    /** Waits, without sleeping, until {@code condition} holds. */
    private static void await(java.util.function.BooleanSupplier condition) {
        StepVerifier.create(Flux.interval(Duration.ofMillis(10)).filter(tick -> condition.getAsBoolean()).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
    }

    private String connectionToken(String identity) {
        return fixture.access.exchangeForConnection(identity).block(TIMEOUT).connectionToken();
    }

    @Test
    void aConnectionTokenIsExchangedWithoutABuildAndServesTheWorkspaceAcrossBuilds() {
        String identity = fixture.access.createWorkspace(dev.agentcore.core.control.Workspace.named("ws")).block(TIMEOUT);
        RSocket anonymous = connect(null);
        String token = RSocketClients.requestResponse(anonymous, Routes.EXCHANGE_V2,
                        ExchangeRequest.newBuilder().setInstanceIdentity(identity).build().toByteArray(),
                        ProtoCodec::decodeConnectionGrant)
                .map(grant -> {
                    assertThat(grant.workspace()).isEqualTo("ws");
                    assertThat(grant.connectionToken()).hasSizeGreaterThanOrEqualTo(43); // 256 bits, base64url
                    assertThat(grant.serverTime()).isNotNull();
                    return grant.connectionToken();
                })
                .block(TIMEOUT);
        anonymous.dispose();
        RSocket agent = connect(token);

        // No build yet: the stream waits; each build sends its row's manifest, and the last one's channel is fenced.
        List<Manifest> received = new CopyOnWriteArrayList<>();
        Disposable listening = manifests(agent).subscribe(received::add);
        AgentRow first = fixture.lifecycle.startBuild("ws").block(TIMEOUT);
        await(() -> received.size() == 1);
        AgentRow second = fixture.lifecycle.startBuild("ws").block(TIMEOUT);
        await(() -> received.size() == 2);
        assertThat(received).extracting(Manifest::agentId).containsExactly(first.agentId(), second.agentId());

        List<Object> acks = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> ended = new AtomicReference<>();
        // An agent's outbound stays open: a channel whose outbound completes is over once its updates are answered.
        agent.requestChannel(Flux.just(RSocketClients.routed(Routes.LIFECYCLE_V2, ProtoCodec.encodeBinding(second.agentId())),
                        io.rsocket.util.DefaultPayload.create(starting())).concatWith(Flux.never()))
                .map(payload -> RSocketClients.decode(payload, ProtoCodec::decodeAck))
                .onErrorMap(WireErrors::fromWire)
                .subscribe(acks::add, ended::set);
        await(() -> acks.size() == 1);
        AgentRow third = fixture.lifecycle.startBuild("ws").block(TIMEOUT);
        await(() -> ended.get() != null);
        code(ErrorCode.FENCED).accept(ended.get());
        assertThat(ended.get().getMessage()).contains("bind to the row of the next manifest");
        await(() -> received.size() == 3);
        assertThat(received.get(2).agentId()).isEqualTo(third.agentId());
        assertThat(agent.isDisposed()).as("the connection outlives the rows").isFalse();
        listening.dispose();
        agent.dispose();
    }

    @Test
    void aConnectionTokenOfOneWorkspaceCanNeverTouchAnother() {
        String identityX = fixture.workspaceWithBuild("x");
        AgentRow retiredX = fixture.latest("x");
        fixture.lifecycle.startBuild("x").block(TIMEOUT);
        fixture.workspaceWithBuild("y");
        AgentRow rowY = fixture.latest("y");
        RSocket agentX = connect(connectionToken(identityX));

        StepVerifier.create(manifests(agentX).take(1))
                .assertNext(manifest -> assertThat(manifest.workspaceId()).isEqualTo("x"))
                .verifyComplete();
        // Another workspace's row and a retired row of its own are refused alike, before any update lands.
        for (AgentRow refused : List.of(rowY, retiredX)) {
            StepVerifier.create(boundLifecycle(agentX, refused.agentId(), starting()))
                    .expectErrorSatisfies(error -> {
                        code(ErrorCode.FENCED).accept(error);
                        assertThat(error.getMessage()).contains("is retired or unknown");
                    })
                    .verify(TIMEOUT);
        }
        StepVerifier.create(boundLifecycle(agentX, AgentId.random(), starting()))
                .expectErrorSatisfies(code(ErrorCode.FENCED)).verify(TIMEOUT);
        StepVerifier.create(startBuild(agentX, "y")).expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
        StepVerifier.create(RSocketClients.requestStream(agentX, Routes.WATCH,
                        WorkspaceRequest.newBuilder().setWorkspace("y").build().toByteArray(), ProtoCodec::decodeRow))
                .expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
        // The v1 routes take a session token bound to a row, not a connection token.
        StepVerifier.create(manifest(agentX)).expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
        StepVerifier.create(lifecycle(agentX, starting())).expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED))
                .verify(TIMEOUT);
        // Its own active row takes its updates.
        StepVerifier.create(boundLifecycle(agentX, fixture.latest("x").agentId(), starting()))
                .expectNextCount(1).thenCancel().verify(TIMEOUT);

        assertThat(fixture.latest("x").state()).isEqualTo(LifecycleState.STARTING);
        assertThat(fixture.rows.findRow(retiredX.agentId()).block(TIMEOUT).state()).isEqualTo(LifecycleState.CREATED);
        assertThat(fixture.latest("y")).isEqualTo(rowY);
        agentX.dispose();
    }

    @Test
    void theV2AgentRoutesRefuseEveryOtherCredential() {
        String identity = fixture.workspaceWithBuild("ws");
        AgentRow row = fixture.latest("ws");
        String sessionToken = fixture.access.exchange(identity).block(TIMEOUT).sessionToken();
        for (String credential : java.util.Arrays.asList(null, sessionToken, ADMIN_TOKEN)) {
            RSocket rsocket = connect(credential);
            StepVerifier.create(manifests(rsocket)).expectErrorSatisfies(error -> {
                code(ErrorCode.UNAUTHENTICATED).accept(error);
                assertThat(error.getMessage()).contains("needs a connection token");
            }).verify(TIMEOUT);
            StepVerifier.create(boundLifecycle(rsocket, row.agentId(), starting()))
                    .expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
            rsocket.dispose();
        }
        assertThat(fixture.latest("ws")).isEqualTo(row);
    }

    @Test
    void anUnknownIdentityGetsNoConnectionToken() {
        fixture.workspaceWithBuild("ws");
        RSocket anonymous = connect(null);

        StepVerifier.create(RSocketClients.requestResponse(anonymous, Routes.EXCHANGE_V2,
                        ExchangeRequest.newBuilder().setInstanceIdentity("guess").build().toByteArray(),
                        ProtoCodec::decodeConnectionGrant))
                .expectErrorSatisfies(error -> {
                    code(ErrorCode.UNAUTHENTICATED).accept(error);
                    assertThat(error.getMessage()).doesNotContain("guess");
                })
                .verify(TIMEOUT);
        anonymous.dispose();
    }

    @Test
    void withoutATokenOnlyTheExchangeRouteAnswers() {
        String identity = fixture.workspaceWithBuild("ws");
        String rowId = fixture.latest("ws").agentId().value();
        RSocket anonymous = connect(null);

        StepVerifier.create(manifest(anonymous)).expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
        StepVerifier.create(startBuild(anonymous, "ws")).expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED))
                .verify(TIMEOUT);
        StepVerifier.create(lifecycle(anonymous, starting())).expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED))
                .verify(TIMEOUT);
        StepVerifier.create(RSocketClients.requestResponse(anonymous, Routes.EXCHANGE,
                        ExchangeRequest.newBuilder().setInstanceIdentity(identity).build().toByteArray(),
                        data -> ProtoCodec.parse(ExchangeResponse::parseFrom, data, "ExchangeResponse")))
                .assertNext(response -> {
                    assertThat(response.getSessionToken()).hasSizeGreaterThanOrEqualTo(43); // 256 bits, base64url
                    assertThat(response.getAgentId()).isEqualTo(rowId);
                })
                .verifyComplete();
        assertThat(fixture.latest("ws").version()).isEqualTo(1);
        anonymous.dispose();
    }

    @Test
    void unknownIdentityIsUnauthenticated() {
        fixture.workspaceWithBuild("ws");
        RSocket anonymous = connect(null);

        StepVerifier.create(RSocketClients.requestResponse(anonymous, Routes.EXCHANGE,
                        ExchangeRequest.newBuilder().setInstanceIdentity("guess").build().toByteArray(),
                        data -> ProtoCodec.parse(ExchangeResponse::parseFrom, data, "ExchangeResponse")))
                .expectErrorSatisfies(error -> {
                    code(ErrorCode.UNAUTHENTICATED).accept(error);
                    assertThat(error.getMessage()).doesNotContain("guess");
                })
                .verify(TIMEOUT);
        anonymous.dispose();
    }

    @Test
    void wrongTokenIsRefusedWithRejectedSetup() {
        RSocket rsocket = connect("not-a-token-anybody-issued");

        StepVerifier.create(rsocket.requestResponse(RSocketClients.routed(Routes.MANIFEST, new byte[0])))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOf(RejectedSetupException.class)
                        .hasMessageStartingWith("UNAUTHENTICATED: ")
                        .hasMessageContaining("not the deployment's admin token")
                        .hasMessageNotContaining("not-a-token-anybody-issued"))
                .verify(TIMEOUT);
        rsocket.dispose();
    }

    @Test
    void anAdminClientWithTheWrongTokenIsToldItsAdminTokenIsWrong() {
        AdminClient admin = AdminClient.connect(fixture.address(ControlPlaneAddress.Transport.TCP), "wrong-admin-token")
                .block(TIMEOUT);

        StepVerifier.create(admin.startBuild("ws"))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOfSatisfying(AgentcoreException.class,
                                refusal -> assertThat(refusal.code()).isEqualTo(ErrorCode.UNAUTHENTICATED))
                        .hasMessageContaining("refused the admin token")
                        .hasMessageNotContaining("session token")
                        .hasMessageNotContaining("wrong-admin-token"))
                .verify(TIMEOUT);
        admin.dispose();
    }

    @Test
    void agentTokenReachesOnlyItsOwnRowAndNoAdminRoute() {
        String identityX = fixture.workspaceWithBuild("x");
        fixture.workspaceWithBuild("y");
        AgentRow rowY = fixture.latest("y");
        String tokenX = fixture.access.exchange(identityX).block(TIMEOUT).sessionToken();
        RSocket agentX = connect(tokenX);

        StepVerifier.create(manifest(agentX))
                .assertNext(m -> assertThat(m).hasFieldOrPropertyWithValue("workspaceId", "x"))
                .verifyComplete();
        StepVerifier.create(startBuild(agentX, "y")).expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
        StepVerifier.create(RSocketClients.requestStream(agentX, Routes.WATCH,
                        WorkspaceRequest.newBuilder().setWorkspace("y").build().toByteArray(), ProtoCodec::decodeRow))
                .expectErrorSatisfies(code(ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
        // Its updates land on its own row, whatever it would like: an update names no row.
        StepVerifier.create(lifecycle(agentX, starting())).expectNextCount(1).thenCancel().verify(TIMEOUT);

        assertThat(fixture.latest("x").state()).isEqualTo(LifecycleState.STARTING);
        assertThat(fixture.latest("y")).isEqualTo(rowY);
        agentX.dispose();
    }

    @Test
    void adminTokenOpensTheControlRoutes() {
        fixture.access.createWorkspace(dev.agentcore.core.control.Workspace.named("ws")).block(TIMEOUT);
        RSocket admin = connect(ADMIN_TOKEN);

        StepVerifier.create(startBuild(admin, "ws"))
                .assertNext(row -> assertThat(row).isInstanceOfSatisfying(AgentRow.class,
                        r -> assertThat(r.state()).isEqualTo(LifecycleState.CREATED)))
                .verifyComplete();
        StepVerifier.create(startBuild(admin, "nope")).expectErrorSatisfies(code(ErrorCode.INVALID_ARGUMENT))
                .verify(TIMEOUT);
        admin.dispose();
    }

    @Test
    void closedConnectionsAreForgottenByTheServer() {
        RSocket first = connect(null);
        RSocket second = connect(ADMIN_TOKEN);
        // A request answered on each connection means the server has accepted both.
        StepVerifier.create(manifest(first)).expectError().verify(TIMEOUT);
        StepVerifier.create(startBuild(second, "nope")).expectError().verify(TIMEOUT);
        assertThat(fixture.openConnections()).isEqualTo(2);

        first.dispose();
        second.dispose();

        StepVerifier.create(Flux.interval(Duration.ofMillis(10)).map(tick -> fixture.openConnections())
                        .filter(open -> open == 0).take(1))
                .expectNext(0)
                .expectComplete()
                .verify(TIMEOUT);
    }
}
