package dev.agentcore.store;

import static dev.agentcore.core.LifecycleState.CREATED;
import static dev.agentcore.core.LifecycleState.READY;
import static dev.agentcore.core.LifecycleState.SHUTTING_DOWN;
import static dev.agentcore.core.LifecycleState.STARTING;
import static dev.agentcore.store.TestDatabases.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.core.agent.ReporterEvent.Resumption;
import dev.agentcore.core.agent.ReporterEvent.SessionStarted;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.AdminClient;
import dev.agentcore.transport.AgentConnector;
import dev.agentcore.transport.ControlPlaneAddress;
import dev.agentcore.transport.ControlPlaneServer;
import dev.agentcore.transport.ControlPlaneServer.RunningControlPlane;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** Two control-plane replicas over one PostgreSQL database, with real sockets between them and the agent. */
class TwoReplicasOnPostgresTest {

    private static final String ADMIN_TOKEN = "admin-token-for-tests-only";

    /** One control-plane replica: its own store (pool and LISTEN connection) and its own server. */
    private static final class Replica implements AutoCloseable {
        final R2dbcAgentStore store;
        final RunningControlPlane server;
        final ControlPlaneAddress address;

        Replica(String url) {
            store = R2dbcAgentStore.open(url).block(TIMEOUT);
            LifecycleService lifecycle = LifecycleService.builder(store).build();
            server = ControlPlaneServer.builder(lifecycle, new AccessService(store, store))
                    .tcp("127.0.0.1", 0)
                    .adminToken(ADMIN_TOKEN)
                    .build()
                    .start()
                    .block(TIMEOUT);
            address = ControlPlaneAddress.tcp(server.tcpAddress());
        }

        @Override
        public void close() {
            server.disposeNow(TIMEOUT);
            store.close().block(TIMEOUT);
        }
    }

    private static void awaitState(AdminClient admin, AgentId agentId, LifecycleState state) {
        StepVerifier.create(admin.watch("ws").filter(r -> r.agentId().equals(agentId) && r.state() == state).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
    }

    @Test
    void watcherOnOneReplicaSeesTheBuildBoundaryDrivenThroughTheOtherAndTheAgentFailsOver() {
        String url = TestDatabases.newPostgresDatabase();
        try (Replica replica1 = new Replica(url); Replica replica2 = new Replica(url);
             AdminClient admin = AdminClient.connect(replica2.address, ADMIN_TOKEN).block(TIMEOUT)) {
            String identity = admin.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
            AgentRow rowA = admin.startBuild("ws").block(TIMEOUT);
            List<AgentRow> seen = new CopyOnWriteArrayList<>();
            Sinks.Empty<Void> watching = Sinks.empty();
            Disposable watch = admin.watch("ws").doOnNext(seen::add).subscribe(row -> watching.tryEmitEmpty());
            watching.asMono().block(TIMEOUT);

            // The agent reports through replica 1; replica 2 is its alternate.
            Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
            List<ReporterEvent> events = new CopyOnWriteArrayList<>();
            AgentConnector connector = AgentConnector.builder(replica1.address, identity)
                    .alternateAddresses(replica2.address)
                    .backoff(Duration.ofMillis(10), Duration.ofMillis(200))
                    .build();
            Sinks.Many<ReporterEvent> reported = Sinks.many().replay().all();
            Disposable agent = LifecycleReporter.builder(lifecycle).build().report(connector.sessions())
                    .subscribe(event -> {
                        events.add(event);
                        assertThat(reported.tryEmitNext(event)).isEqualTo(Sinks.EmitResult.OK);
                    });
            lifecycle.transitionTo(STARTING);
            lifecycle.transitionTo(READY);
            awaitState(admin, rowA.agentId(), READY);

            // The build starts through replica 2; replica 1 learns of it by NOTIFY and fences the agent.
            AgentRow rowB = admin.startBuild("ws").block(TIMEOUT);
            awaitState(admin, rowB.agentId(), READY);

            // Replica 1 goes away; the agent carries on through replica 2. (An update sent as replica 1
            // closes may still be applied there: its connection closes after the server is disposed.
            // Either way the agent resumes through replica 2, and a re-sent update is a duplicate.)
            replica1.server.disposeNow(TIMEOUT);
            lifecycle.transitionTo(SHUTTING_DOWN);
            awaitState(admin, rowB.agentId(), SHUTTING_DOWN);
            StepVerifier.create(reported.asFlux().filter(SessionStarted.class::isInstance).skip(2).take(1))
                    .as("the session through replica 2").expectNextCount(1).expectComplete().verify(TIMEOUT);
            watch.dispose();
            agent.dispose();

            assertThat(seen).filteredOn(row -> row.agentId().equals(rowA.agentId())).extracting(AgentRow::state)
                    .containsSubsequence(CREATED, STARTING, READY);
            assertThat(seen).filteredOn(row -> row.agentId().equals(rowB.agentId())).extracting(AgentRow::state)
                    .containsExactly(CREATED, STARTING, READY, SHUTTING_DOWN);
            AgentRow b = replica2.store.findRow(rowB.agentId()).block(TIMEOUT);
            assertThat(b.version()).as("one write per transition, nothing lost or doubled").isEqualTo(4);
            assertThat(b.startedAt()).isAfterOrEqualTo(b.createdAt()).isBefore(b.readyAt());
            List<SessionStarted> sessions = events.stream().filter(SessionStarted.class::isInstance)
                    .map(SessionStarted.class::cast).toList();
            assertThat(sessions).extracting(s -> s.manifest().agentId())
                    .containsExactly(rowA.agentId(), rowB.agentId(), rowB.agentId());
            assertThat(sessions).extracting(SessionStarted::resumption)
                    .containsExactly(Resumption.FIRST, Resumption.REPLAY, Resumption.RESUME);
        }
    }
}
