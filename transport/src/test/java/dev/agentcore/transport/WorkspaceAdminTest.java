package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.control.Workspace;
import io.rsocket.RSocket;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * A workspace's identity replaced or the workspace deleted through the admin routes: the old
 * identity and its credentials are refused, its connections close at once (protocol v2 and v1),
 * another workspace's stay.
 */
class WorkspaceAdminTest {

    private final ControlPlaneFixture fixture = new ControlPlaneFixture();
    private AdminClient admin;
    private Disposable agent;

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.dispose();
        }
        if (admin != null) {
            admin.dispose();
        }
        fixture.close();
    }

    @Test
    void aNewIdentityClosesTheWorkspacesConnectionsAndRefusesTheOldOne() {
        String old = fixture.workspaceWithBuild("ws");
        String othersIdentity = fixture.workspaceWithBuild("other");
        RSocket v2 = connectedWith(fixture.access.exchangeForConnection(old).block(TIMEOUT).connectionToken());
        RSocket v1 = connectedWith(fixture.access.exchange(old).block(TIMEOUT).sessionToken());
        RSocket others = connectedWith(fixture.access.exchangeForConnection(othersIdentity).block(TIMEOUT).connectionToken());
        StepVerifier.create(manifests(others).take(1)).expectNextCount(1).verifyComplete();
        admin = fixture.admin();

        String renewed = admin.rotateIdentity("ws").block(TIMEOUT);

        StepVerifier.create(v2.onClose().onErrorComplete()).expectComplete().verify(TIMEOUT);
        StepVerifier.create(v1.onClose().onErrorComplete()).expectComplete().verify(TIMEOUT);
        StepVerifier.create(manifests(others).take(1)).as("another workspace's connection").expectNextCount(1)
                .verifyComplete();
        StepVerifier.create(fixture.access.exchangeForConnection(old))
                .expectErrorSatisfies(error -> assertCode(error, ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
        // The new identity serves an agent as before.
        Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
        agent = LifecycleReporter.builder(lifecycle).build()
                .report(AgentConnector.builder(fixture.tcp(), renewed).build().sessions()).subscribe();
        lifecycle.transitionTo(LifecycleState.STARTING);
        lifecycle.transitionTo(LifecycleState.READY);
        StepVerifier.create(fixture.lifecycle.watch("ws").filter(row -> row.state() == LifecycleState.READY).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
        others.dispose();
    }

    @Test
    void aDeletedWorkspacesRowIsRetiredItsConnectionsClosedAndItIsGone() {
        String identity = fixture.workspaceWithBuild("ws");
        fixture.workspaceWithBuild("other");
        RSocket v2 = connectedWith(fixture.access.exchangeForConnection(identity).block(TIMEOUT).connectionToken());
        admin = fixture.admin();

        admin.deleteWorkspace("ws").block(TIMEOUT);

        StepVerifier.create(v2.onClose().onErrorComplete()).expectComplete().verify(TIMEOUT);
        assertThat(fixture.latest("ws").active()).as("its row, retired").isFalse();
        assertThat(admin.workspaces().map(Workspace::name).collectList().block(TIMEOUT)).containsExactly("other");
        StepVerifier.create(fixture.access.exchangeForConnection(identity))
                .expectErrorSatisfies(error -> assertCode(error, ErrorCode.UNAUTHENTICATED)).verify(TIMEOUT);
        StepVerifier.create(admin.deleteWorkspace("ws"))
                .expectErrorSatisfies(error -> assertCode(error, ErrorCode.INVALID_ARGUMENT)).verify(TIMEOUT);
        StepVerifier.create(admin.workspace("ws"))
                .expectErrorSatisfies(error -> assertCode(error, ErrorCode.INVALID_ARGUMENT)).verify(TIMEOUT);
    }

    private RSocket connectedWith(String token) {
        return RSocketClients.connect(fixture.tcp(), token).block(TIMEOUT);
    }

    private static Flux<Manifest> manifests(RSocket rsocket) {
        return RSocketClients.requestStream(rsocket, Routes.MANIFESTS_V2, new byte[0], ProtoCodec::decodeManifest);
    }

    private static void assertCode(Throwable error, ErrorCode code) {
        assertThat(error).isInstanceOfSatisfying(AgentcoreException.class, refusal -> assertThat(refusal.code()).isEqualTo(code));
    }
}
