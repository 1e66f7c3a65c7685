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
import dev.agentcore.store.R2dbcAgentStore.Dialect;
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
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Many agents, many updates, and every fault at once: connections cut at random byte offsets
 * (inside frames, in the middle of replays) by a proxy, build boundaries, and control-plane
 * restarts on the store's database (the H2 file, PostgreSQL). When the faults stop and the system
 * settles, the invariants of DESIGN.md section 7 must hold, checked against every write the
 * stores committed, as their change streams published them.
 *
 * <p>Seeded. {@code -Dagentcore.chaos.seed=S} (both stores), {@code -Dagentcore.chaos.h2Seeds=A,B}
 * and {@code -Dagentcore.chaos.postgresSeeds=C}, {@code -Dagentcore.chaos.agents=N} and
 * {@code -Dagentcore.chaos.rounds=R} reproduce a failure or run a longer soak;
 * {@code -Dagentcore.chaos.cpuStealers=K} runs K busy threads beside it, as a starved machine.
 */
class ChaosTest {

    private static final Duration SETTLE = Duration.ofSeconds(90);
    private static final String ADMIN_TOKEN = "admin-token-for-tests-only";
    private static final LifecycleState[] CYCLE = {LifecycleState.STARTING, LifecycleState.READY,
            LifecycleState.SHUTTING_DOWN, LifecycleState.OFF};

    @TempDir
    Path directory;

    /**
     * Every row write the stores committed, from their own change streams (a recorder around a
     * caller's compare-and-set would miss a write whose caller was cancelled after the commit);
     * outlives restarts.
     */
    static final class RecordingStore {
        /** Per row, every version written. */
        final Map<AgentId, Map<Long, AgentRow>> versions = new ConcurrentHashMap<>();

        Disposable record(AgentStore store) {
            return store.changes().subscribe(row -> versions.computeIfAbsent(row.agentId(), id -> new ConcurrentHashMap<>())
                    .put(row.version(), row));
        }
    }

    /** The control plane: a store on the database and a server on a fixed port, restartable. */
    final class ControlPlane {
        final RecordingStore recording = new RecordingStore();
        final Dialect dialect;
        final String postgresUrl;
        R2dbcAgentStore store;
        Disposable recordingThisStore;
        RunningControlPlane server;
        int port;

        ControlPlane(Dialect dialect) {
            this.dialect = dialect;
            this.postgresUrl = dialect == Dialect.POSTGRESQL ? TestDatabases.newPostgresDatabase() : null;
        }

        void start() {
            store = (dialect == Dialect.H2 ? R2dbcAgentStore.openH2File(directory) : R2dbcAgentStore.open(postgresUrl))
                    .block(SETTLE);
            recordingThisStore = recording.record(store);
            server = ControlPlaneServer.builder(LifecycleService.builder(store).build(), new AccessService(store, store))
                    .tcp("127.0.0.1", port)
                    .adminToken(ADMIN_TOKEN)
                    .updateRateLimit(10_000, 10_000)
                    .build().start().block(SETTLE);
            port = server.tcpAddress().getPort();
        }

        void stop() {
            server.disposeNow(SETTLE);
            store.close().block(SETTLE);
            recordingThisStore.dispose();
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

    /**
     * The runs: seeds on H2 from {@code agentcore.chaos.h2Seeds}, on PostgreSQL from
     * {@code agentcore.chaos.postgresSeeds} (comma-separated; empty for none); or the one seed
     * {@code agentcore.chaos.seed} on both.
     */
    static Stream<Arguments> runs() {
        String one = System.getProperty("agentcore.chaos.seed");
        String h2 = one != null ? one : System.getProperty("agentcore.chaos.h2Seeds", "20261127,1,2");
        String postgres = one != null ? one : System.getProperty("agentcore.chaos.postgresSeeds", "20261127");
        return Stream.concat(seeds(h2).map(seed -> Arguments.of(Dialect.H2, seed)),
                seeds(postgres).map(seed -> Arguments.of(Dialect.POSTGRESQL, seed)));
    }

    private static Stream<Long> seeds(String list) {
        return Stream.of(list.split(",")).map(String::strip).filter(seed -> !seed.isEmpty()).map(Long::parseLong);
    }

    @ParameterizedTest(name = "{0}, seed {1}")
    @MethodSource("runs")
    void agentsConvergeWithNothingLostOrDoubledWhateverTheFaults(Dialect dialect, long seed) {
        int agentCount = Integer.getInteger("agentcore.chaos.agents", 100);
        int rounds = Integer.getInteger("agentcore.chaos.rounds", 100);
        System.out.printf("ChaosTest: %s, %d agents, %d rounds, seed %d (-Dagentcore.chaos.seed=%d)%n",
                dialect, agentCount, rounds, seed, seed);
        Random random = new Random(seed);
        CpuStealers stealers = CpuStealers.start(Integer.getInteger("agentcore.chaos.cpuStealers", 0));
        ControlPlane controlPlane = new ControlPlane(dialect);
        controlPlane.start();
        FaultProxy proxy = FaultProxy.start(controlPlane.port, seed);
        proxy.cutRandomly(0.3, 4096);
        ControlPlaneAddress address = ControlPlaneAddress.tcp("127.0.0.1", proxy.port());
        AccessService access = new AccessService(controlPlane.store, controlPlane.store);
        List<Agent> agents = new ArrayList<>();
        for (int i = 0; i < agentCount; i++) {
            String workspace = "ws-" + i;
            String identity = access.createWorkspace(Workspace.named(workspace)).block(SETTLE);
            controlPlane.store.startBuild(workspace, 1, Instant.now()).block(SETTLE);
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
                    LifecycleService service = LifecycleService.builder(controlPlane.store).build();
                    service.startBuild(agent.workspace).block(SETTLE);
                    builds++;
                }
                if (random.nextInt(8) == 0) {
                    proxy.cutAll();
                }
                if (round > 0 && round % Math.max(1, rounds / 4) == 0) {
                    // The control plane goes down and comes back on its database.
                    controlPlane.stop();
                    controlPlane.start();
                    restarts++;
                }
                // Pace the load so reporting and faults interleave.
                Mono.delay(Duration.ofMillis(10)).block();
            }

            proxy.cutRandomly(0, 0);
            awaitConvergence(agents, controlPlane);
            System.out.printf("ChaosTest: %s, seed %d: %d updates, %d cuts over %d connections, %d builds, %d restarts%n",
                    dialect, seed, updates, proxy.cuts(), proxy.connections(), builds, restarts);
            assertThat(updates).isGreaterThanOrEqualTo(agentCount * rounds);
            checkInvariants(agents, controlPlane);
        } finally {
            agents.forEach(agent -> agent.reporting.dispose());
            proxy.close();
            controlPlane.stop();
            stealers.stop();
        }
    }

    /** Busy threads that take CPU from everything else while a run lasts. */
    record CpuStealers(List<Thread> threads, AtomicBoolean running) {
        static CpuStealers start(int count) {
            AtomicBoolean running = new AtomicBoolean(true);
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                Thread thread = new Thread(() -> {
                    long spin = 0;
                    while (running.get()) {
                        spin = spin * 6364136223846793005L + 1442695040888963407L;
                    }
                    if (spin == 42) {
                        System.out.print(""); // keeps the loop from being optimised away
                    }
                }, "cpu-stealer-" + i);
                thread.setDaemon(true);
                thread.start();
                threads.add(thread);
            }
            if (count > 0) {
                System.out.printf("ChaosTest: %d CPU-stealing threads running%n", count);
            }
            return new CpuStealers(threads, running);
        }

        void stop() {
            running.set(false);
        }
    }

    /** Waits until every workspace's active row holds its agent's latest transition. */
    private void awaitConvergence(List<Agent> agents, ControlPlane controlPlane) {
        Duration oneRead = Duration.ofSeconds(10);
        long deadline = System.nanoTime() + SETTLE.toNanos();
        Set<String> pending = new java.util.TreeSet<>();
        while (true) {
            pending.clear();
            for (Agent agent : agents) {
                AgentRow row = controlPlane.store.latestRow(agent.workspace).timeout(oneRead, Mono.empty()).block();
                if (row == null) {
                    throw new AssertionError(failureStory("reading " + agent.workspace + "'s row took more than "
                            + oneRead, agents, pending, controlPlane));
                }
                if (!converged(agent, row)) {
                    pending.add(agent.workspace);
                }
            }
            if (pending.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(failureStory("agents not converged after " + SETTLE, agents, pending,
                        controlPlane));
            }
            Mono.delay(Duration.ofMillis(100)).block();
        }
    }

    /** Each stuck agent's story (where it is, what its row holds, what it did last), the store's state, every thread. */
    private static String failureStory(String what, List<Agent> agents, Set<String> pending, ControlPlane controlPlane) {
        StringBuilder story = new StringBuilder(what + "; not converged: " + pending + "\n" + controlPlane.store.state());
        for (Agent agent : agents) {
            if (pending.contains(agent.workspace)) {
                List<ReporterEvent> events = agent.events;
                story.append("\n").append(agent.workspace).append(": agent at ").append(agent.lifecycle.current())
                        .append("\n  last events:\n    ").append(events.subList(Math.max(0, events.size() - 8),
                                events.size()).stream().map(Object::toString).collect(Collectors.joining("\n    ")));
            }
        }
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            story.append("\nthread ").append(thread.getName()).append(" ").append(thread.getState());
            for (StackTraceElement frame : stack) {
                story.append("\n    at ").append(frame);
            }
        });
        System.out.println(story);
        return story.toString();
    }

    private static boolean converged(Agent agent, AgentRow row) {
        LifecycleTransition latest = agent.lifecycle.current();
        return row.active() && row.state() == latest.state()
                && (latest.seq() == 0 || (latest.chain().equals(row.lastChain()) && latest.seq() == row.lastSeq()));
    }

    private static void checkInvariants(List<Agent> agents, ControlPlane controlPlane) {
        // Per row, in version order: every write that applied a new (chain, seq), none twice, none after
        // the row was retired.
        Set<String> applied = new HashSet<>();
        controlPlane.recording.versions.forEach((id, byVersion) -> {
            AgentRow previous = null;
            for (AgentRow row : new TreeMap<>(byVersion).values()) {
                if (previous != null) {
                    assertThat(row.version()).as("a version of %s missing from the change stream", id)
                            .isEqualTo(previous.version() + 1);
                    assertThat(previous.active() || !row.active()).as("written after retirement: %s after %s", row,
                            previous).isTrue();
                }
                boolean newUpdate = row.lastChain() != null && (previous == null
                        || !row.lastChain().equals(previous.lastChain()) || row.lastSeq() != previous.lastSeq());
                if (newUpdate) {
                    assertThat(applied.add(id + "/" + row.lastChain() + "#" + row.lastSeq()))
                            .as("applied twice: %s", row).isTrue();
                }
                previous = row;
            }
        });
        for (Agent agent : agents) {
            // Nothing acknowledged is lost: every ack, APPLIED or DUPLICATE, is a committed write.
            for (ReporterEvent.UpdateAcknowledged acked : agent.acks) {
                LifecycleAck ack = acked.ack();
                if (!applied.contains(acked.agentId() + "/" + ack.chain() + "#" + ack.seq())) {
                    // Tell the whole story of that chain: the agent's events and every committed write of it.
                    String story = agent.events.stream()
                            .filter(event -> !(event instanceof ReporterEvent.UpdateSent sent)
                                    || sent.update().chain().equals(ack.chain()))
                            .filter(event -> !(event instanceof ReporterEvent.UpdateAcknowledged other)
                                    || other.ack().chain().equals(ack.chain()))
                            .map(Object::toString)
                            .collect(Collectors.joining("\n  "));
                    String chainWrites = controlPlane.recording.versions.getOrDefault(acked.agentId(), Map.of()).values()
                            .stream().filter(row -> ack.chain().equals(row.lastChain()))
                            .map(Object::toString).collect(Collectors.joining("\n  "));
                    throw new AssertionError("acknowledged (" + ack.outcome() + ") but never written: " + acked
                            + "\nwrites of that chain to that row:\n  " + chainWrites + "\nthe agent's events:\n  " + story);
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
                // The change stream carried every write: the stored row is its last recorded version.
                assertThat(controlPlane.recording.versions.getOrDefault(row.agentId(), Map.of()).get(row.version()))
                        .as("the stored row as recorded").isEqualTo(row);
            }
        }
    }
}
