package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.ADMIN_TOKEN;
import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.proto.v1.AdminTokenResponse;
import dev.agentcore.transport.proto.v1.WorkspaceRequest;
import io.rsocket.RSocket;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Rotating the admin token ends what the old one opened on this control plane, over a real
 * socket: the other admin connections are closed, the one that asked gets the new token and is
 * refused everything after it, and a connection whose SETUP was checked against the old token
 * while the rotation ran is refused.
 */
class AdminTokenRotationTest {

    private final ControlPlaneFixture fixture = new ControlPlaneFixture();

    @AfterEach
    void stop() {
        fixture.close();
    }

    @Test
    void aRotationClosesTheOtherAdminConnectionsAndRefusesTheAskerEverythingAfterTheNewToken() {
        String identity = fixture.workspaceWithBuild("ws");
        RSocket agent = RSocketClients.connect(fixture.tcp(),
                fixture.access.exchangeForConnection(identity).block(TIMEOUT).connectionToken()).block(TIMEOUT);
        RSocket other = RSocketClients.connect(fixture.tcp(), ADMIN_TOKEN).block(TIMEOUT);
        RSocket asker = RSocketClients.connect(fixture.tcp(), ADMIN_TOKEN).block(TIMEOUT);
        Flux<AgentRow> othersWatch = watch(other).replay().autoConnect(0);
        Flux<AgentRow> askersWatch = watch(asker).replay().autoConnect(0);
        StepVerifier.create(othersWatch.take(1)).expectNextCount(1).expectComplete().verify(TIMEOUT);
        StepVerifier.create(askersWatch.take(1)).expectNextCount(1).expectComplete().verify(TIMEOUT);

        String rotated = RSocketClients.requestResponse(asker, Routes.ADMIN_ROTATE_TOKEN, new byte[0],
                data -> ProtoCodec.parse(AdminTokenResponse::parseFrom, data, "AdminTokenResponse").getAdminToken())
                .block(TIMEOUT);

        assertThat(rotated).isNotEqualTo(ADMIN_TOKEN).hasSizeGreaterThanOrEqualTo(43);
        StepVerifier.create(other.onClose().onErrorResume(closedWithAnError -> Mono.empty()))
                .expectComplete().verify(TIMEOUT);
        StepVerifier.create(othersWatch.ignoreElements()).expectError().verify(TIMEOUT);
        // The asker's connection carried the answer: it stays, and is refused everything it asks or had open.
        StepVerifier.create(askersWatch.ignoreElements()).expectErrorSatisfies(rotatedAway()).verify(TIMEOUT);
        StepVerifier.create(RSocketClients.requestStream(asker, Routes.WORKSPACES_LIST, new byte[0], data -> data))
                .expectErrorSatisfies(rotatedAway()).verify(TIMEOUT);
        StepVerifier.create(RSocketClients.requestResponse(asker, Routes.ADMIN_ROTATE_TOKEN, new byte[0], data -> data))
                .expectErrorSatisfies(rotatedAway()).verify(TIMEOUT);
        assertThat(asker.isDisposed()).isFalse();
        // The new token opens a connection; the agent's connection was never the admin's.
        try (AdminClient renewed = AdminClient.connect(fixture.tcp(), rotated).block(TIMEOUT)) {
            assertThat(renewed.workspace("ws").block(TIMEOUT).name()).isEqualTo("ws");
        }
        assertThat(agent.isDisposed()).isFalse();
        StepVerifier.create(RSocketClients.requestStream(agent, Routes.MANIFESTS_V2, new byte[0], data -> data).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
        agent.dispose();
        asker.dispose();
    }

    @Test
    void aConnectionWhoseSetupWasCheckedAgainstTheOldTokenWhileTheRotationRanIsRefused() throws Exception {
        InMemoryAgentStore rows = new InMemoryAgentStore();
        HeldAdminTokenCheck holding = new HeldAdminTokenCheck();
        AccessService access = new AccessService(rows, holding);
        ControlPlaneServer.RunningControlPlane server = ControlPlaneServer.builder(LifecycleService.builder(rows).build(), access)
                .tcp("127.0.0.1", 0).adminToken(ADMIN_TOKEN).build().start().block(TIMEOUT);
        try {
            ControlPlaneAddress address = ControlPlaneAddress.tcp("127.0.0.1", server.tcpAddress().getPort());
            Mono<RSocket> connecting = RSocketClients.connect(address, ADMIN_TOKEN).cache();
            Mono<?> listing = connecting.flatMap(connection -> RSocketClients.requestResponse(connection,
                    Routes.WORKSPACES_GET, WorkspaceRequest.newBuilder().setWorkspace("ws").build().toByteArray(),
                    data -> data)).cache();
            listing.subscribe(ignored -> { }, ignored -> { });
            holding.awaitCheck(TIMEOUT);

            access.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
            access.rotateAdminToken().block(TIMEOUT);
            holding.answer();

            StepVerifier.create(listing).expectErrorSatisfies(rotatedAway()).verify(TIMEOUT);
        } finally {
            server.disposeNow(TIMEOUT);
        }
    }

    private static Flux<AgentRow> watch(RSocket admin) {
        return RSocketClients.requestStream(admin, Routes.WATCH,
                WorkspaceRequest.newBuilder().setWorkspace("ws").build().toByteArray(), ProtoCodec::decodeRow);
    }

    private static Consumer<Throwable> rotatedAway() {
        return error -> assertThat(error).isInstanceOfSatisfying(AgentcoreException.class, refusal -> {
            assertThat(refusal.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
            assertThat(refusal).hasMessageContaining("has been rotated");
        });
    }
}
