package dev.agentcore.transport;

import static dev.agentcore.core.LifecycleState.CREATED;
import static dev.agentcore.core.LifecycleState.READY;
import static dev.agentcore.core.LifecycleState.STARTING;
import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.core.agent.ReporterEvent.SessionStarted;
import dev.agentcore.core.control.AgentRow;
import io.rsocket.RSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class BuildBoundaryOverRSocketTest {

    /** An agent process: lifecycle, reporter and connector, reporting until disposed. */
    private static final class Agent implements AutoCloseable {
        final Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
        final List<ReporterEvent> events = new CopyOnWriteArrayList<>();
        final Disposable reporting;

        Agent(ControlPlaneAddress address, String identity) {
            this(address, identity, AgentConnector.Protocol.V2);
        }

        Agent(ControlPlaneAddress address, String identity, AgentConnector.Protocol protocol) {
            AgentConnector connector = AgentConnector.builder(address, identity)
                    .backoff(Duration.ofMillis(10), Duration.ofMillis(200))
                    .protocol(protocol)
                    .build();
            reporting = LifecycleReporter.builder(lifecycle).build().report(connector.sessions()).subscribe(events::add);
        }

        List<AgentId> sessionRows() {
            return events.stream().filter(SessionStarted.class::isInstance)
                    .map(e -> ((SessionStarted) e).manifest().agentId()).toList();
        }

        @Override
        public void close() {
            reporting.dispose();
        }
    }

    private static void awaitState(AdminClient admin, AgentId agentId, LifecycleState state) {
        StepVerifier.create(admin.watch("ws").filter(r -> r.agentId().equals(agentId) && r.state() == state).take(1))
                .expectNextCount(1)
                .expectComplete()
                .verify(TIMEOUT);
    }

    /** Watches the workspace and returns once the watch has delivered its first row. */
    private static Disposable watch(AdminClient admin, List<AgentRow> seen) {
        Sinks.Empty<Void> first = Sinks.empty();
        Disposable watching = admin.watch("ws").doOnNext(seen::add).subscribe(row -> first.tryEmitEmpty());
        first.asMono().block(TIMEOUT);
        return watching;
    }

    private static void assertReadyThroughReplay(AgentRow b, List<AgentRow> seen) {
        // The watch that saw READY first is another stream than the one filling seen: let seen catch up.
        StepVerifier.create(Flux.interval(Duration.ofMillis(10))
                        .filter(tick -> seen.stream().anyMatch(row -> row.agentId().equals(b.agentId()) && row.state() == READY))
                        .take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
        assertThat(b.state()).isEqualTo(READY);
        assertThat(b.startedAt()).isAfterOrEqualTo(b.createdAt()).isBefore(b.readyAt());
        assertThat(seen).filteredOn(row -> row.agentId().equals(b.agentId())).extracting(AgentRow::state)
                .containsExactly(CREATED, STARTING, READY);
    }

    /** The agent reports STARTING and READY; returns once the control plane has READY on {@code row}. */
    private static void readyOn(Agent agent, AdminClient admin, AgentRow row) {
        agent.lifecycle.transitionTo(STARTING);
        agent.lifecycle.transitionTo(READY);
        awaitState(admin, row.agentId(), READY);
    }

    /**
     * A new build while the agent idles in READY: returns the new row once it is READY, having
     * gone CREATED, STARTING, READY through the agent's replay.
     */
    private static AgentRow newBuildReplayedOnto(ControlPlaneFixture fixture, AdminClient admin) {
        List<AgentRow> seen = new CopyOnWriteArrayList<>();
        Disposable watching = watch(admin, seen);
        AgentRow next = admin.startBuild("ws").block(TIMEOUT);
        awaitState(admin, next.agentId(), READY);
        assertReadyThroughReplay(fixture.latest("ws"), seen);
        watching.dispose();
        return next;
    }

    @ParameterizedTest
    @EnumSource(ControlPlaneAddress.Transport.class)
    void buildWhileConnectedFencesTheSessionAndTheReplayMakesTheNewRowReady(ControlPlaneAddress.Transport transport) {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture();
             AdminClient admin = fixture.admin()) {
            String identity = fixture.workspaceWithBuild("ws");
            AgentRow rowA = fixture.latest("ws");
            try (Agent agent = new Agent(fixture.address(transport), identity)) {
                readyOn(agent, admin, rowA);

                // The agent sits idle in READY; the new build alone must bring it over.
                AgentRow rowB = newBuildReplayedOnto(fixture, admin);

                AgentRow a = fixture.rows.findRow(rowA.agentId()).block(TIMEOUT);
                assertThat(a.active()).isFalse();
                assertThat(a.state()).isEqualTo(READY);
                assertThat(agent.sessionRows()).containsExactly(rowA.agentId(), rowB.agentId());
            }
        }
    }

    /**
     * Protocol v1: the session token is bound to row A. FENCED ends the session and drops the
     * token with it, so the next session exchanges the identity for row B's token: two new
     * connections at the proxy, an exchange and a session. A token kept past FENCED would cost a
     * refused attempt first (and, kept for ever, would be fenced for ever).
     */
    @Test
    void aV1AgentIsFencedOffTheOldRowExchangesAgainAtOnceAndReplaysOntoTheNewOne() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture();
             FaultProxy proxy = FaultProxy.start(fixture.tcp().port(), 1);
             AdminClient admin = fixture.admin()) {
            String identity = fixture.workspaceWithBuild("ws");
            AgentRow rowA = fixture.latest("ws");
            try (Agent agent = new Agent(ControlPlaneAddress.tcp("127.0.0.1", proxy.port()), identity,
                    AgentConnector.Protocol.V1)) {
                readyOn(agent, admin, rowA);
                assertThat(proxy.connections()).as("the exchange's connection and the session's").isEqualTo(2);

                AgentRow rowB = newBuildReplayedOnto(fixture, admin);

                assertThat(agent.sessionRows()).containsExactly(rowA.agentId(), rowB.agentId());
                assertThat(proxy.connections()).as("one exchange and one session for row B, no refused attempt")
                        .isEqualTo(4);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ControlPlaneAddress.Transport.class)
    void buildWhileTheControlPlaneIsDownIsReplayedAfterItRestarts(ControlPlaneAddress.Transport transport) {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture()) {
            String identity = fixture.workspaceWithBuild("ws");
            AgentRow rowA = fixture.latest("ws");
            try (Agent agent = new Agent(fixture.address(transport), identity)) {
                agent.lifecycle.transitionTo(STARTING);
                agent.lifecycle.transitionTo(READY);
                try (AdminClient admin = fixture.admin()) {
                    awaitState(admin, rowA.agentId(), READY);
                }

                // Every connection is cut; a build happens meanwhile; the control plane comes back.
                fixture.stop();
                AgentRow rowB = fixture.lifecycle.startBuild("ws").block(TIMEOUT);
                fixture.start();

                try (AdminClient admin = fixture.admin()) {
                    List<AgentRow> seen = new CopyOnWriteArrayList<>();
                    Disposable watching = watch(admin, seen);
                    awaitState(admin, rowB.agentId(), READY);
                    AgentRow b = fixture.latest("ws");
                    assertThat(b.state()).isEqualTo(READY);
                    assertThat(b.startedAt()).isAfterOrEqualTo(b.createdAt()).isBefore(b.readyAt());
                    assertThat(seen).filteredOn(row -> row.agentId().equals(b.agentId())).extracting(AgentRow::state)
                            .endsWith(READY);
                    watching.dispose();
                }
                assertThat(agent.sessionRows()).startsWith(rowA.agentId()).endsWith(rowB.agentId());
            }
        }
    }

    /**
     * Protocol v2: the agent's connection outlives the row. Counted at a TCP proxy in front of the
     * listener, as connections that reached the control plane: the exchange's short connection and
     * the kept one, and not one more across a build boundary, neither before a control-plane
     * restart nor after it. (With protocol v1 the first boundary alone costs two more.) Attempts
     * the agent makes while the control plane is down reach only the proxy and are not counted.
     */
    @ParameterizedTest
    @EnumSource(ControlPlaneAddress.Transport.class)
    void aBuildBoundaryIsCrossedOnTheConnectionTheAgentAlreadyHas(ControlPlaneAddress.Transport transport) {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture();
             FaultProxy proxy = FaultProxy.start(fixture.address(transport).port(), 1);
             AdminClient admin = fixture.admin()) {
            String identity = fixture.workspaceWithBuild("ws");
            AgentRow rowA = fixture.latest("ws");
            ControlPlaneAddress throughProxy = transport == ControlPlaneAddress.Transport.TCP
                    ? ControlPlaneAddress.tcp("127.0.0.1", proxy.port())
                    : ControlPlaneAddress.websocket("127.0.0.1", proxy.port());
            try (Agent agent = new Agent(throughProxy, identity)) {
                readyOn(agent, admin, rowA);
                assertThat(proxy.established()).as("the exchange's connection and the kept one").isEqualTo(2);

                AgentRow rowB = newBuildReplayedOnto(fixture, admin);

                assertThat(proxy.established()).as("connections after one build boundary").isEqualTo(2);
                assertThat(agent.sessionRows()).containsExactly(rowA.agentId(), rowB.agentId());

                // A restart cuts the connection; the agent comes back with its token, on one new connection,
                // and keeps that one across the next build.
                fixture.stop();
                fixture.start();
                try (AdminClient again = fixture.admin()) {
                    awaitSessions(agent, 3);
                    long afterRestart = proxy.established();
                    assertThat(afterRestart).as("one new connection, no exchange").isEqualTo(3);
                    AgentRow rowC = newBuildReplayedOnto(fixture, again);
                    assertThat(proxy.established()).as("connections after the build past the restart")
                            .isEqualTo(afterRestart);
                    assertThat(agent.sessionRows()).containsExactly(rowA.agentId(), rowB.agentId(), rowB.agentId(), rowC.agentId());
                }
            }
        }
    }

    private static void awaitSessions(Agent agent, int count) {
        StepVerifier.create(Flux.interval(Duration.ofMillis(20))
                        .filter(tick -> agent.sessionRows().size() >= count).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
    }

    @Test
    void tokenOfARetiredRowIsAnsweredFenced() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture()) {
            String identity = fixture.workspaceWithBuild("ws");
            String tokenForA = fixture.access.exchange(identity).block(TIMEOUT).sessionToken();
            fixture.lifecycle.startBuild("ws").block(TIMEOUT);

            RSocket rsocket = RSocketClients.connect(fixture.tcp(), tokenForA).block(TIMEOUT);
            StepVerifier.create(RSocketClients.requestResponse(rsocket, Routes.MANIFEST, new byte[0],
                            ProtoCodec::decodeManifest))
                    .expectErrorSatisfies(error -> assertThat(error)
                            .isInstanceOfSatisfying(AgentcoreException.class,
                                    e -> assertThat(e.code()).isEqualTo(ErrorCode.FENCED)))
                    .verify(TIMEOUT);
            rsocket.dispose();

            // Exchanging again binds a fresh token to the new row.
            String tokenForB = fixture.access.exchange(identity).block(TIMEOUT).sessionToken();
            AgentId rowB = fixture.latest("ws").agentId();
            RSocket again = RSocketClients.connect(fixture.tcp(), tokenForB).block(TIMEOUT);
            StepVerifier.create(RSocketClients.requestResponse(again, Routes.MANIFEST, new byte[0],
                            ProtoCodec::decodeManifest))
                    .assertNext(manifest -> assertThat(manifest.agentId()).isEqualTo(rowB))
                    .verifyComplete();
            again.dispose();
            StepVerifier.create(again.onClose()).expectComplete().verify(TIMEOUT);
        }
    }
}
