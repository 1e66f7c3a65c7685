package dev.agentcore.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleTransition;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.AgentStore;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.AgentConnector;
import dev.agentcore.transport.ControlPlaneAddress;
import dev.agentcore.transport.ControlPlaneServer;
import dev.agentcore.transport.ControlPlaneServer.RunningControlPlane;
import dev.agentcore.transport.FaultProxy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Many agents, many updates, and every fault at once: connections cut at random byte offsets
 * (inside frames, in the middle of replays) by a proxy, build boundaries, and control-plane
 * restarts on the H2 file store. When the faults stop and the system settles, the invariants of
 * DESIGN.md section 7 must hold.
 *
 * <p>Seeded. {@code -Dagentcore.chaos.seed=S}, {@code -Dagentcore.chaos.agents=N} and
 * {@code -Dagentcore.chaos.rounds=R} reproduce a failure or run a longer soak.
 */
class ChaosTest {

    private static final Duration SETTLE = Duration.ofSeconds(90);
    private static final String ADMIN_TOKEN = "admin-token-for-tests-only";
    private static final LifecycleState[] CYCLE = {LifecycleState.STARTING, LifecycleState.READY,
            LifecycleState.SHUTTING_DOWN, LifecycleState.OFF};

    @TempDir
    Path directory;

    /** One applied write, as the store saw it. */
    record Write(AgentId row, ChainId chain, long seq, boolean toActiveRow) {
    }

    /** Wraps the store of the moment, recording every compare-and-set that wrote; outlives restarts. */
    static final class RecordingStore {
        final List<Write> writes = new CopyOnWriteArrayList<>();

        AgentStore wrap(R2dbcAgentStore store) {
            return new AgentStore() {
                @Override
                public Mono<AgentRow> findRow(AgentId id) {
                    return store.findRow(id);
                }

                @Override
                public Mono<AgentRow> latestRow(String workspace) {
                    return store.latestRow(workspace);
                }

                @Override
                public Flux<AgentRow> rows(String workspace, int limit) {
                    return store.rows(workspace, limit);
                }

                @Override
                public Mono<AgentRow> startBuild(String workspace, Instant createdAt) {
                    return store.startBuild(workspace, createdAt);
                }

                @Override
                public Mono<AgentRow> stopBuild(String workspace) {
                    return store.stopBuild(workspace);
                }

                @Override
                public Mono<Boolean> compareAndSet(AgentRow expected, AgentRow next) {
                    return store.compareAndSet(expected, next).doOnNext(written -> {
                        if (written) {
                            writes.add(new Write(next.id(), next.lastChain(), next.lastSeq(), expected.active()));
                        }
                    });
                }

                @Override
                public Flux<AgentRow> changes() {
                    return store.changes();
                }
            };
        }
    }

    /** The control plane: a store on the H2 file and a server on a fixed port, restartable. */
    final class ControlPlane {
        final RecordingStore recording = new RecordingStore();
        R2dbcAgentStore store;
        RunningControlPlane server;
        int port;

        void start() {
            store = R2dbcAgentStore.openH2File(directory).block(SETTLE);
            AgentStore rows = recording.wrap(store);
            server = ControlPlaneServer.builder(LifecycleService.builder(rows).build(), new AccessService(rows, store))
                    .tcp("127.0.0.1", port)
                    .adminToken(ADMIN_TOKEN)
                    .updateRateLimit(10_000, 10_000)
                    .build().start().block(SETTLE);
            port = server.tcpAddress().getPort();
        }

        void stop() {
            server.disposeNow(SETTLE);
            store.close().block(SETTLE);
        }
    }

    /** One agent process: lifecycle, reporter and connector, and the acks it saw. */
    static final class Agent {
        final String workspace;
        final Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
        final List<ReporterEvent.UpdateAcknowledged> acks = new CopyOnWriteArrayList<>();
        /** Every event, for the story a failure tells. */
        final List<ReporterEvent> events = new CopyOnWriteArrayList<>();
        final Disposable reporting;
        int step;

        Agent(String workspace, ControlPlaneAddress address, String identity, long seed) {
            this.workspace = workspace;
            AgentConnector connector = AgentConnector.builder(address, identity)
                    .backoff(Duration.ofMillis(10), Duration.ofMillis(200))
                    .keepAlive(Duration.ofMillis(500), Duration.ofSeconds(3))
                    .random(new Random(seed))
                    .build();
            reporting = LifecycleReporter.builder(lifecycle).build().report(connector.sessions()).subscribe(event -> {
                events.add(event);
                if (event instanceof ReporterEvent.UpdateAcknowledged acked) {
                    acks.add(acked);
                }
            });
        }

        /** One more transition: through startup and shutdown, then a new generation. */
        void advance() {
            if (step == CYCLE.length) {
                lifecycle.reinitialize();
                step = 0;
            }
            lifecycle.transitionTo(CYCLE[step++]);
        }
    }

    @Test
    void agentsConvergeWithNothingLostOrDoubledWhateverTheFaults() {
        long seed = Long.getLong("agentcore.chaos.seed", 20261127L);
        int agentCount = Integer.getInteger("agentcore.chaos.agents", 100);
        int rounds = Integer.getInteger("agentcore.chaos.rounds", 100);
        System.out.printf("ChaosTest: %d agents, %d rounds, seed %d (-Dagentcore.chaos.seed=%d)%n",
                agentCount, rounds, seed, seed);
        Random random = new Random(seed);
        ControlPlane controlPlane = new ControlPlane();
        controlPlane.start();
        FaultProxy proxy = FaultProxy.start(controlPlane.port, seed);
        proxy.cutRandomly(0.3, 4096);
        ControlPlaneAddress address = ControlPlaneAddress.tcp("127.0.0.1", proxy.port());
        AccessService access = new AccessService(controlPlane.store, controlPlane.store);
        List<Agent> agents = new ArrayList<>();
        for (int i = 0; i < agentCount; i++) {
            String workspace = "ws-" + i;
            String identity = access.createWorkspace(Workspace.named(workspace)).block(SETTLE);
            controlPlane.store.startBuild(workspace, Instant.now()).block(SETTLE);
            agents.add(new Agent(workspace, address, identity, seed + i));
        }

        int updates = 0;
        int builds = 0;
        int restarts = 0;
        try {
            for (int round = 0; round < rounds; round++) {
                for (Agent agent : agents) {
                    agent.advance();
                    updates++;
                }
                if (random.nextInt(3) == 0) {
                    // A build boundary for some agent, wherever its reporting is.
                    Agent agent = agents.get(random.nextInt(agents.size()));
                    LifecycleService service = LifecycleService.builder(controlPlane.recording.wrap(controlPlane.store)).build();
                    service.startBuild(agent.workspace).block(SETTLE);
                    builds++;
                }
                if (random.nextInt(8) == 0) {
                    proxy.cutAll();
                }
                if (round > 0 && round % Math.max(1, rounds / 4) == 0) {
                    // The control plane goes down and comes back on its H2 file.
                    controlPlane.stop();
                    controlPlane.start();
                    restarts++;
                }
                // Pace the load so reporting and faults interleave.
                Mono.delay(Duration.ofMillis(10)).block();
            }

            proxy.cutRandomly(0, 0);
            awaitConvergence(agents, controlPlane);
            System.out.printf("ChaosTest: %d updates, %d cuts over %d connections, %d builds, %d restarts%n",
                    updates, proxy.cuts(), proxy.connections(), builds, restarts);
            assertThat(updates).isGreaterThanOrEqualTo(agentCount * rounds);
            checkInvariants(agents, controlPlane);
        } finally {
            agents.forEach(agent -> agent.reporting.dispose());
            proxy.close();
            controlPlane.stop();
        }
    }

    /** Waits until every workspace's active row holds its agent's latest transition. */
    private void awaitConvergence(List<Agent> agents, ControlPlane controlPlane) {
        Set<String> pending = ConcurrentHashMap.newKeySet();
        AtomicBoolean settled = new AtomicBoolean();
        Flux.interval(Duration.ofMillis(100), Schedulers.boundedElastic())
                .map(tick -> {
                    pending.clear();
                    for (Agent agent : agents) {
                        if (!converged(agent, controlPlane.store.latestRow(agent.workspace).block(SETTLE))) {
                            pending.add(agent.workspace);
                        }
                    }
                    return pending.isEmpty();
                })
                .filter(done -> done)
                .take(1)
                .doOnNext(settled::set)
                .blockLast(SETTLE);
        assertThat(settled).as("agents not converged: %s", pending).isTrue();
    }

    private static boolean converged(Agent agent, AgentRow row) {
        LifecycleTransition latest = agent.lifecycle.current();
        return row.active() && row.state() == latest.state()
                && (latest.seq() == 0 || (latest.chain().equals(row.lastChain()) && latest.seq() == row.lastSeq()));
    }

    private static void checkInvariants(List<Agent> agents, ControlPlane controlPlane) {
        List<Write> writes = controlPlane.recording.writes;
        // No (chain, seq) applied twice to a row; no write to a retired row.
        Set<String> applied = new HashSet<>();
        for (Write write : writes) {
            assertThat(applied.add(write.row() + "/" + write.chain() + "#" + write.seq()))
                    .as("applied twice: %s", write).isTrue();
            assertThat(write.toActiveRow()).as("written to a retired row: %s", write).isTrue();
        }
        for (Agent agent : agents) {
            // Nothing acknowledged is lost: every ack is an applied write.
            for (ReporterEvent.UpdateAcknowledged acked : agent.acks) {
                LifecycleAck ack = acked.ack();
                if (!applied.contains(acked.agent() + "/" + ack.chain() + "#" + ack.seq())) {
                    // Tell the whole story of that chain: the agent's events and every recorded write of it.
                    String story = agent.events.stream()
                            .filter(event -> !(event instanceof ReporterEvent.UpdateSent sent)
                                    || sent.update().chain().equals(ack.chain()))
                            .filter(event -> !(event instanceof ReporterEvent.UpdateAcknowledged other)
                                    || other.ack().chain().equals(ack.chain()))
                            .map(Object::toString)
                            .collect(java.util.stream.Collectors.joining("\n  "));
                    String chainWrites = writes.stream().filter(write -> ack.chain().equals(write.chain()))
                            .map(Object::toString).collect(java.util.stream.Collectors.joining("\n  "));
                    throw new AssertionError("acknowledged but not applied: " + acked + "\nwrites of that chain:\n  "
                            + chainWrites + "\nthe agent's events:\n  " + story);
                }
            }
            // started_at <= ready_at, both at or after the row's creation, on every row.
            for (AgentRow row : controlPlane.store.rows(agent.workspace, 1000).collectList().block(SETTLE)) {
                if (row.startedAt() != null) {
                    assertThat(row.startedAt()).as("started_at of %s", row).isAfterOrEqualTo(row.createdAt());
                }
                if (row.readyAt() != null && row.startedAt() != null) {
                    assertThat(row.readyAt()).as("ready_at of %s", row).isAfterOrEqualTo(row.startedAt());
                }
            }
        }
    }
}
