package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.Script;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.Workspace;
import io.rsocket.RSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
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

    @Test
    void newScriptsReachTheNextBuildsManifestAndNeverTheRowAlreadyRunning() {
        Script original = new Script("echo one", Duration.ofSeconds(30), true);
        Script stop = new Script("echo stop", Duration.ofSeconds(5), false);
        admin = fixture.admin();
        String identity = admin.createWorkspace(new Workspace("ws", "ws-agent", List.of(original), List.of(stop)))
                .block(TIMEOUT);
        AgentRow first = admin.startBuild("ws").block(TIMEOUT);
        RSocket connection = connectedWith(fixture.access.exchangeForConnection(identity).block(TIMEOUT).connectionToken());
        // Every manifest the connection is handed, from now on, kept for the assertions below.
        Flux<Manifest> handed = manifests(connection).replay().autoConnect(0);
        Script changed = new Script("echo two", Duration.ofSeconds(90), false);

        Workspace updated = admin.updateScripts("ws", Optional.of(List.of(changed)), Optional.empty()).block(TIMEOUT);

        assertThat(updated).as("the shutdown phase, left out, kept").isEqualTo(
                new Workspace("ws", "ws-agent", List.of(changed), List.of(stop)));
        assertThat(admin.workspace("ws").block(TIMEOUT)).isEqualTo(updated);
        assertThat(fixture.access.manifest(first.agentId()).block(TIMEOUT).startupScripts()).as("the running row's")
                .containsExactly(original);
        AgentRow second = admin.startBuild("ws").block(TIMEOUT);
        assertThat(first.scriptsRevision()).isEqualTo(1);
        assertThat(second.scriptsRevision()).as("as the admin client decoded it").isEqualTo(2);
        StepVerifier.create(handed.take(2))
                .assertNext(manifest -> {
                    assertThat(manifest.agentId()).isEqualTo(first.agentId());
                    assertThat(manifest.startupScripts()).containsExactly(original);
                })
                .assertNext(manifest -> {
                    assertThat(manifest.agentId()).isEqualTo(second.agentId());
                    assertThat(manifest.startupScripts()).containsExactly(changed);
                    assertThat(manifest.shutdownScripts()).containsExactly(stop);
                })
                .verifyComplete();
        assertThat(handed.take(2).map(Manifest::contentDigest).distinct().count().block(TIMEOUT)).isEqualTo(2);

        admin.updateScripts("ws", Optional.empty(), Optional.of(List.of())).block(TIMEOUT);
        assertThat(admin.workspace("ws").block(TIMEOUT).shutdownScripts()).as("sent empty: none").isEmpty();
        StepVerifier.create(admin.updateScripts("nope", Optional.of(List.of()), Optional.empty()))
                .expectErrorSatisfies(error -> assertCode(error, ErrorCode.INVALID_ARGUMENT)).verify(TIMEOUT);
        connection.dispose();
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
