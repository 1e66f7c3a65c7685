package dev.agentcore.bench;

import ch.qos.logback.classic.Level;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleTransition;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.store.WriteStats;
import dev.agentcore.transport.AdminClient;
import dev.agentcore.cli.BenchEcho;
import dev.agentcore.transport.AgentConnector;
import io.rsocket.util.DefaultPayload;
import dev.agentcore.transport.ControlPlaneAddress;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

@Command(name = "storm", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The build-boundary storm: starts the reference control plane in a JVM of its own and "
                + "simulates N agents in this one (the library's connector and reporter, real RSocket over loopback "
                + "TCP). Phase 1: every agent connects and goes STARTING -> READY. Phase 2: a new build for every "
                + "workspace at once; every session is fenced and the agents replay onto the new rows (v2: on the "
                + "connection they have; v1: reconnecting with jittered backoff). Phase 2 runs --boundaries times and "
                + "the last is the measured one: the first, reported as phase 2a, runs on cold JVMs. Between phases 2 "
                + "and 3 the fleet idles, connected, for --idle-seconds. Phase 3: steady updates at a fixed rate, "
                + "then a closed loop for throughput. Baselines in "
                + "the same run: a bare RSocket echo route on the same server, and the naive reporter.",
                "Results on stdout as a table (and as JSON with --json FILE); progress on stderr.",
                "Exit 0 when no row is left stuck (and the naive baseline did leave rows stuck, proving the check "
                        + "can fail); 1 otherwise; 2 on bad options."})
final class StormCommand implements Callable<Integer> {

    @Option(names = "--agents", paramLabel = "N", defaultValue = "1000",
            description = "Simulated agents, one workspace each. Default: ${DEFAULT-VALUE}.")
    int agents;

    @Option(names = "--store", paramLabel = "mem|h2|postgres", defaultValue = "mem",
            description = {"The control plane's store. postgres starts an embedded PostgreSQL server (a real "
                    + "postgres process) unless --postgres-url is given. Default: ${DEFAULT-VALUE}."})
    String store;

    @Option(names = "--postgres-url", paramLabel = "URL",
            description = "An r2dbc:postgresql:// URL to use for --store postgres instead of the embedded server.")
    String postgresUrl;

    @Option(names = "--steady-rate", paramLabel = "PER_SECOND", defaultValue = "1",
            description = "Phase 3: updates per agent per second. Default: ${DEFAULT-VALUE}.")
    double steadyRate;

    @Option(names = "--steady-seconds", paramLabel = "S", defaultValue = "10",
            description = "Phase 3: how long the steady rate is measured, after its warm-up (--warm-up). Default: ${DEFAULT-VALUE}.")
    int steadySeconds;

    @Option(names = "--saturation-seconds", paramLabel = "S", defaultValue = "5",
            description = "Throughput, agentcore and the echo baseline each: how long the closed loop is measured, "
                    + "after its warm-up (--warm-up). Default: ${DEFAULT-VALUE}.")
    int saturationSeconds;

    @Option(names = "--warm-up", paramLabel = "S",
            description = "Phase 3 and the echo baseline: how long each load runs unmeasured before its window (the "
                    + "JIT compiles what the load runs meanwhile). Default: 2 s before the steady window, 1 s before "
                    + "each throughput window.")
    Integer warmUpSeconds;

    @Option(names = "--boundaries", paramLabel = "N", defaultValue = "2",
            description = "Phase 2: how many build boundaries run one after another; the last is measured, the "
                    + "first is reported as phase 2a (cold JVMs). Default: ${DEFAULT-VALUE}.")
    int boundaries;

    @Option(names = "--idle-seconds", paramLabel = "S", defaultValue = "5",
            description = "After phase 2: how long the connected fleet idles (keepalives only) while both processes' "
                    + "CPU is measured. Default: ${DEFAULT-VALUE}.")
    int idleSeconds;

    @Option(names = "--converge-timeout", paramLabel = "S", defaultValue = "120",
            description = "How long to wait for all rows to be READY before counting them stuck. Default: ${DEFAULT-VALUE}.")
    int convergeTimeoutSeconds;

    @Option(names = "--baselines", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also run the echo and naive-reporter baselines (--no-baselines skips them). Default: on.")
    boolean baselines;

    @Option(names = "--protocol", paramLabel = "v1|v2", defaultValue = "v2",
            description = {"The agents' wire protocol: v2 keeps one connection per agent across builds, v1 opens "
                    + "a connection (and an exchange) per row. Default: ${DEFAULT-VALUE}."})
    String protocol;

    @Option(names = "--seed", paramLabel = "SEED",
            description = "Seeds the agents' backoff jitter and tick phases. Default: random, printed.")
    Long seed;

    @Option(names = "--control-plane-jvm", paramLabel = "OPTIONS", defaultValue = "-Xmx4g",
            description = "JVM options of the control-plane process, space-separated. Default: ${DEFAULT-VALUE}.")
    String controlPlaneJvm;

    @Option(names = "--quick", description = "The smoke check CI runs: 200 agents, 2 s steady, 1 s throughput windows "
            + "(overrides --agents, --steady-seconds and --saturation-seconds).")
    boolean quick;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results to FILE as one JSON object.")
    Path json;

    /**
     * Requests the harness keeps in flight on its one admin connection: the control plane's
     * default cap per connection (more are refused with RESOURCE_EXHAUSTED, as a slow store showed).
     */
    private static final int ADMIN_REQUESTS_IN_FLIGHT = 256;
    /**
     * Streams the harness opens at once on that connection: half the default cap of 64 per
     * connection, since a stream cut short by the harness counts until its cancel reaches the
     * control plane, and the row tracker holds one more.
     */
    private static final int ADMIN_STREAMS_IN_FLIGHT = 32;

    private final Map<String, Object> results = new LinkedHashMap<>();
    private final List<Map<String, Object>> cpuByPhase = new ArrayList<>();
    private ControlPlaneProcess controlPlane;
    /** The embedded PostgreSQL server's processes, when the harness started one. */
    private ProcessTreeCpu postgresCpu;
    private long phaseStartNanos;
    private Duration phaseStartCp;
    private Duration phaseStartPostgres;
    private long phaseStartOwnCpu;
    private WriteStats phaseStartWrites;

    private AgentConnector.Protocol agentProtocol() {
        return switch (protocol) {
            case "v1" -> AgentConnector.Protocol.V1;
            case "v2" -> AgentConnector.Protocol.V2;
            default -> throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--protocol: v1 or v2, was '" + protocol + "'");
        };
    }

    @Override
    public Integer call() throws Exception {
        agentProtocol();
        results.put("protocol", protocol);
        if (warmUpSeconds != null) {
            results.put("warm_up_seconds", warmUpSeconds);
        }
        if (quick) {
            agents = 200;
            steadySeconds = 2;
            saturationSeconds = 1;
            idleSeconds = 1;
        }
        if (agents < 1 || steadyRate <= 0 || steadySeconds < 1 || saturationSeconds < 1 || convergeTimeoutSeconds < 1
                || boundaries < 1 || idleSeconds < 1 || (warmUpSeconds != null && warmUpSeconds < 0)) {
            System.err.println("storm: --agents, --steady-rate, --steady-seconds, --saturation-seconds, --boundaries, "
                    + "--idle-seconds and --converge-timeout must be positive, --warm-up not negative");
            return 2;
        }
        results.put("boundaries", boundaries);
        if (!List.of("mem", "h2", "postgres").contains(store)) {
            System.err.println("storm: --store must be mem, h2 or postgres, was '" + store + "'");
            return 2;
        }
        if (postgresUrl != null && !store.equals("postgres")) {
            System.err.println("storm: --postgres-url needs --store postgres");
            return 2;
        }
        if (System.getenv("AGENTCORE_LOG_LEVEL") == null) {
            // Thousands of agents reconnecting on purpose: their warnings are the storm, not news.
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.agentcore")).setLevel(Level.ERROR);
        }
        long runSeed = seed != null ? seed : new Random().nextLong();
        progress("seed " + runSeed + " (rerun with --seed " + runSeed + ")");
        results.put("agents", agents);
        results.put("store", store);
        results.put("seed", runSeed);
        results.put("machine", Map.of("cores", Runtime.getRuntime().availableProcessors(),
                "jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")));

        Path dataDir = Files.createTempDirectory("agentcore-storm-");
        EmbeddedPostgres postgres = null;
        try {
            String storeArgument = store;
            if (store.equals("postgres")) {
                if (postgresUrl != null) {
                    storeArgument = postgresUrl;
                } else {
                    progress("starting an embedded PostgreSQL server");
                    // Durable commits, as in production (the embedded server's test defaults may relax them).
                    postgres = EmbeddedPostgres.builder().setDataDirectory(dataDir.resolve("postgres"))
                            .setCleanDataDirectory(true)
                            .setServerConfig("fsync", "on")
                            .setServerConfig("synchronous_commit", "on")
                            .start();
                    storeArgument = "r2dbc:postgresql://postgres@127.0.0.1:" + postgres.getPort() + "/postgres";
                    postgresCpu = ProcessTreeCpu.ofPostgres(dataDir.resolve("postgres"));
                }
            }
            controlPlane = ControlPlaneProcess.start(storeArgument, dataDir.resolve("control-plane"),
                    Arrays.asList(controlPlaneJvm.trim().split("\\s+")));
            progress("control plane pid " + controlPlane.pid() + " on 127.0.0.1:" + controlPlane.port);
            return run(runSeed);
        } finally {
            if (controlPlane != null) {
                controlPlane.close();
            }
            if (postgres != null) {
                postgres.close();
            }
            deleteRecursively(dataDir);
        }
    }

    private int run(long runSeed) throws Exception {
        ControlPlaneAddress address = ControlPlaneAddress.tcp(controlPlane.host, controlPlane.port);
        Duration timeout = Duration.ofSeconds(convergeTimeoutSeconds);
        try (AdminClient admin = AdminClient.connect(address, controlPlane.adminToken).block(timeout)) {
            markPhase();
            List<String> names = new ArrayList<>(agents);
            for (int i = 0; i < agents; i++) {
                names.add(String.format("storm-%05d", i));
            }
            Map<String, String> identities = new ConcurrentHashMap<>();
            Flux.fromIterable(names)
                    .flatMap(name -> admin.createWorkspace(Workspace.named(name))
                            .doOnNext(identity -> identities.put(name, identity))
                            .then(admin.startBuild(name)), 64)
                    .then().block(timeout);
            endPhase("setup", Map.of("workspaces", agents));
            long heapWithoutAgents = controlPlane.liveHeapBytes();

            // ---- phase 1: connect, STARTING -> READY -------------------------------------------
            SimulatedAgent.Meters meters = new SimulatedAgent.Meters();
            List<SimulatedAgent> fleet = fleet(names, identities, address, false, meters, runSeed);
            Map<String, Long> connectStarted = new ConcurrentHashMap<>();
            RowTracker tracker = RowTracker.await(admin, 1, agents, connectStarted, names.get(0), timeout);
            markPhase();
            for (SimulatedAgent agent : fleet) {
                connectStarted.put(agent.workspace, System.nanoTime());
                agent.start();
            }
            RowTracker.Convergence startup = tracker.result(timeout);
            Map<String, Object> phase1 = convergence(startup, phaseStartNanos);
            endPhase("phase 1: connect and start", phase1);
            results.put("phase1", phase1);
            if (!startup.complete()) {
                progress("phase 1 did not complete: " + startup.ready() + " of " + agents + " rows READY; "
                        + fleet.stream().filter(agent -> agent.sessions() > 0).count() + " agents have had a session, "
                        + fleet.stream().filter(SimulatedAgent::isReady).count() + " are READY themselves");
                fleet.forEach(SimulatedAgent::stop);
                results.put("stuck_rows", stuckRows(admin, names, 1, timeout));
                return report(false);
            }

            long heapConnected = controlPlane.liveHeapBytes();
            Map<String, Object> heap = new LinkedHashMap<>();
            heap.put("live_bytes_without_agents", heapWithoutAgents);
            heap.put("live_bytes_agents_connected_idle", heapConnected);
            heap.put("bytes_per_connected_agent", heapWithoutAgents < 0 || heapConnected < 0 ? -1
                    : (heapConnected - heapWithoutAgents) / agents);
            heap.put("total_live_bytes_per_agent", heapConnected < 0 ? -1 : heapConnected / agents);
            results.put("heap", heap);

            // ---- phase 2: the build boundary, --boundaries times ---------------------------------
            // The first boundary runs code paths neither JVM has run before (fences, manifests on the
            // stream, bindings), so its CPU is largely the JIT compiling them; it is reported, and
            // the last, on JVMs as warm as a long-lived control plane's, is the measured one.
            Boundary storm = null;
            for (int boundary = 1; boundary <= boundaries; boundary++) {
                boolean measured = boundary == boundaries;
                String phase = measured ? "phase 2: build boundary"
                        : boundary == 1 ? "phase 2a: first build boundary (cold JVMs)"
                        : "phase 2a: build boundary " + boundary + " of " + boundaries + " (not measured)";
                // Build 1 was startup's: boundary k starts build k + 1.
                storm = boundary(admin, names, boundary + 1L, phase, timeout);
                if (boundary == 1 && !measured) {
                    results.put("phase2_cold", storm.summary());
                }
                if (measured) {
                    results.put("phase2", storm.summary());
                }
                if (!storm.converged()) {
                    break;
                }
            }
            results.put("stuck_rows", storm.stuck());
            if (!storm.converged()) {
                fleet.forEach(SimulatedAgent::stop);
                return report(false);
            }

            // ---- between phases 2 and 3: the connected fleet, idle ------------------------------
            // What a control plane pays per connected agent when nothing happens: keepalives, timers.
            // After the boundaries, so that neither JVM is still compiling what they ran.
            settle();
            markPhase();
            Thread.sleep(Duration.ofSeconds(idleSeconds).toMillis());
            Map<String, Object> idle = new LinkedHashMap<>();
            idle.put("seconds", idleSeconds);
            idle.put("control_plane_cpu_us_per_agent_second",
                    controlPlane.cpu().minus(phaseStartCp).toNanos() / 1e3 / agents / idleSeconds);
            idle.put("harness_cpu_us_per_agent_second", (ownCpuNanos() - phaseStartOwnCpu) / 1e3 / agents / idleSeconds);
            endPhase("idle, all connected", idle);
            results.put("idle", idle);

            // ---- phase 3: steady state, then throughput ----------------------------------------
            Random phases = new Random(runSeed);
            long periodNanos = (long) (1e9 / steadyRate);
            markPhase();
            for (SimulatedAgent agent : fleet) {
                agent.tickEvery(Duration.ofNanos(periodNanos), Duration.ofNanos((long) (phases.nextDouble() * periodNanos)));
            }
            Map<String, Object> steady = measure(meters, warmUp(2), Duration.ofSeconds(steadySeconds));
            fleet.forEach(SimulatedAgent::stopTicking);
            steady.put("offered_updates_per_second", steadyRate * agents);
            endPhase("phase 3: steady state", steady);
            results.put("steady", steady);
            settle();

            markPhase();
            fleet.forEach(SimulatedAgent::saturate);
            Map<String, Object> saturated = measure(meters, warmUp(1), Duration.ofSeconds(saturationSeconds));
            fleet.forEach(SimulatedAgent::stopTicking);
            endPhase("throughput: agentcore", saturated);
            results.put("throughput_agentcore", saturated);
            settle();
            fleet.forEach(SimulatedAgent::stop);
            awaitSocketsClosed();

            boolean naiveReproduced = true;
            if (baselines) {
                Map<String, Object> echo = echoBaseline(address);
                results.put("throughput_echo", echo);
                double ratio = ((Number) saturated.get("acked_per_second")).doubleValue()
                        / ((Number) echo.get("echoed_per_second")).doubleValue();
                results.put("throughput_ratio", ratio);
                awaitSocketsClosed();

                Map<String, Object> naive = naiveBaseline(admin, names, identities, address, runSeed,
                        storm.convergence(), boundaries + 1, timeout);
                results.put("naive", naive);
                naiveReproduced = ((Number) naive.get("stuck_rows")).longValue() > 0;
                if (!naiveReproduced) {
                    progress("the naive baseline left no row stuck: the harness could not have seen the bug");
                }
            }
            return report(naiveReproduced);
        }
    }

    private List<SimulatedAgent> fleet(List<String> names, Map<String, String> identities, ControlPlaneAddress address,
                                       boolean naive, SimulatedAgent.Meters meters, long runSeed) {
        List<SimulatedAgent> fleet = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            AgentConnector connector = AgentConnector.builder(address, identities.get(name))
                    .random(new Random(runSeed * 31 + i + (naive ? 1_000_003 : 0)))
                    .protocol(agentProtocol())
                    .build();
            fleet.add(new SimulatedAgent(name, connector, naive, meters, Schedulers.parallel()));
        }
        return fleet;
    }

    /** Warms up, resets the meters, then measures acknowledged updates and their latency for {@code window}. */
    private static Map<String, Object> measure(SimulatedAgent.Meters meters, Duration warmUp, Duration window)
            throws InterruptedException {
        Thread.sleep(warmUp.toMillis());
        meters.reset();
        long start = System.nanoTime();
        Thread.sleep(window.toMillis());
        long acked = meters.acked.sum();
        Histogram latency = meters.ackLatencyNanos.copy();
        double elapsed = seconds(System.nanoTime() - start);
        Map<String, Object> measured = new LinkedHashMap<>();
        measured.put("seconds", elapsed);
        measured.put("acked", acked);
        measured.put("acked_per_second", acked / elapsed);
        measured.put("ack_latency_ms", percentiles(latency));
        return measured;
    }

    /** The warm-up before a measured window: --warm-up if given, else {@code defaultSeconds}. */
    private Duration warmUp(int defaultSeconds) {
        return Duration.ofSeconds(warmUpSeconds != null ? warmUpSeconds : defaultSeconds);
    }

    /** Lets updates in flight be acknowledged before the next phase. */
    private static void settle() throws InterruptedException {
        Thread.sleep(1000);
    }

    /**
     * The transport's own limit: as many connections as agents, each a request-channel on the echo
     * route with one payload in flight, the payload an encoded lifecycle update of the real size.
     */
    private Map<String, Object> echoBaseline(ControlPlaneAddress address) throws InterruptedException {
        LifecycleTransition starting = new LifecycleTransition(dev.agentcore.core.ChainId.newIncarnation(), 1,
                LifecycleState.STARTING, Clock.systemUTC().instant());
        byte[] update = WireUpdates.encode(LifecycleUpdate.live(starting, starting.changedAt()));
        markPhase();
        List<AdminClient> connections = Flux.range(0, agents)
                .flatMap(i -> AdminClient.connect(address, controlPlane.adminToken), 64)
                .collectList().block(Duration.ofSeconds(convergeTimeoutSeconds));
        LongAdder echoed = new LongAdder();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Sinks.Many<byte[]>> outbounds = new ArrayList<>();
        for (AdminClient connection : connections) {
            Sinks.Many<byte[]> outbound = Sinks.many().unicast().onBackpressureBuffer();
            outbounds.add(outbound);
            connection.channel(BenchEcho.ROUTE, outbound.asFlux().map(DefaultPayload::create)).subscribe(echo -> {
                echo.release();
                echoed.increment();
                if (running.get()) {
                    outbound.tryEmitNext(update);
                }
            }, error -> {
                if (running.get()) {
                    progress("echo connection failed: " + error);
                }
            });
            outbound.tryEmitNext(update);
        }
        Thread.sleep(warmUp(1).toMillis());
        echoed.reset();
        long start = System.nanoTime();
        Thread.sleep(saturationSeconds * 1000L);
        long count = echoed.sum();
        double elapsed = seconds(System.nanoTime() - start);
        running.set(false);
        Thread.sleep(500);
        outbounds.forEach(Sinks.Many::tryEmitComplete);
        connections.forEach(AdminClient::dispose);
        Map<String, Object> echo = new LinkedHashMap<>();
        echo.put("connections", connections.size());
        echo.put("payload_bytes", update.length);
        echo.put("seconds", elapsed);
        echo.put("echoed_per_second", count / elapsed);
        endPhase("throughput: bare RSocket echo", echo);
        return echo;
    }

    /** One build boundary: its phase summary, the rows' convergence, and the rows left stuck. */
    private record Boundary(Map<String, Object> summary, RowTracker.Convergence convergence, long stuck) {
        boolean converged() {
            return convergence.complete() && stuck == 0;
        }
    }

    /**
     * A new build ({@code build}) for every workspace at once, through the admin connection; the
     * phase lasts until every new row is READY (or the timeout).
     */
    private Boundary boundary(AdminClient admin, List<String> names, long build, String phase, Duration timeout)
            throws InterruptedException {
        Map<String, Long> buildStarted = new ConcurrentHashMap<>();
        RowTracker tracker = RowTracker.await(admin, build, agents, buildStarted, names.get(0), timeout);
        markPhase();
        long opensBefore = TcpCounters.activeOpens();
        long stormStart = System.nanoTime();
        Flux.fromIterable(names)
                .flatMap(name -> Mono.defer(() -> {
                    buildStarted.put(name, System.nanoTime());
                    return admin.startBuild(name);
                }), ADMIN_REQUESTS_IN_FLIGHT)
                .then().block(timeout);
        long buildsStarted = System.nanoTime();
        RowTracker.Convergence convergence = tracker.result(timeout);
        Map<String, Object> summary = convergence(convergence, stormStart);
        summary.put("seconds_to_start_all_builds", seconds(buildsStarted - stormStart));
        long opened = TcpCounters.activeOpens();
        // Every TCP connection this host opened meanwhile: the agents', and the admin's (it has one, kept).
        summary.put("tcp_connections_opened", opensBefore < 0 || opened < 0 ? -1 : opened - opensBefore);
        // The boundary's CPU ends with its last READY row; the check for stuck rows below (a read per
        // workspace) is the harness's verification, not the boundary's work, and is reported on its own.
        summary.put("control_plane_cpu_ms_per_agent", controlPlane.cpu().minus(phaseStartCp).toNanos() / 1e6 / agents);
        summary.put("harness_cpu_ms_per_agent", (ownCpuNanos() - phaseStartOwnCpu) / 1e6 / agents);
        endPhase(phase, summary);
        markPhase();
        long stuck = stuckRows(admin, names, build, timeout);
        endPhase("check: rows of build " + build + " not READY", Map.of("stuck_rows", stuck));
        summary.put("stuck_rows", stuck);
        return new Boundary(summary, convergence, stuck);
    }

    /**
     * The correctness baseline: the same storm with the naive reporter, on the same workspaces:
     * the build after {@code lastBuild} for its startup, the one after that for its boundary.
     */
    private Map<String, Object> naiveBaseline(AdminClient admin, List<String> names,
                                              Map<String, String> identities, ControlPlaneAddress address,
                                              long runSeed, RowTracker.Convergence agentcoreStorm, long lastBuild,
                                              Duration timeout)
            throws InterruptedException {
        markPhase();
        Flux.fromIterable(names).flatMap(admin::startBuild, ADMIN_REQUESTS_IN_FLIGHT).then().block(timeout);
        SimulatedAgent.Meters meters = new SimulatedAgent.Meters();
        List<SimulatedAgent> fleet = fleet(names, identities, address, true, meters, runSeed);
        Map<String, Long> connectStarted = new ConcurrentHashMap<>();
        RowTracker tracker = RowTracker.await(admin, lastBuild + 1, agents, connectStarted, names.get(0), timeout);
        for (SimulatedAgent agent : fleet) {
            connectStarted.put(agent.workspace, System.nanoTime());
            agent.start();
        }
        RowTracker.Convergence startup = tracker.result(timeout);
        Map<String, Object> naive = new LinkedHashMap<>();
        naive.put("startup_rows_ready", startup.ready());
        if (startup.complete()) {
            // Twice what agentcore needed for its slowest agent, and at least 10 s: fair to the naive reporter.
            long agentcoreNanos = agentcoreStorm.latencyNanos().getMaxValue();
            Duration grace = Duration.ofNanos(Math.max(Duration.ofSeconds(10).toNanos(), 2 * agentcoreNanos));
            Map<String, Long> buildStarted = new ConcurrentHashMap<>();
            tracker = RowTracker.await(admin, lastBuild + 2, agents, buildStarted, names.get(0), timeout);
            Flux.fromIterable(names)
                    .flatMap(name -> Mono.defer(() -> {
                        buildStarted.put(name, System.nanoTime());
                        return admin.startBuild(name);
                    }), ADMIN_REQUESTS_IN_FLIGHT)
                    .then().block(timeout);
            tracker.result(grace);
            naive.put("grace_seconds", seconds(grace.toNanos()));
            naive.put("agents_reconnected", fleet.stream().filter(agent -> agent.sessions() >= 2).count());
            naive.put("stuck_rows", stuckRows(admin, names, lastBuild + 2, timeout));
        } else {
            naive.put("stuck_rows", 0L);
            progress("the naive agents did not even start: " + startup.ready() + " of " + agents);
        }
        fleet.forEach(SimulatedAgent::stop);
        endPhase("baseline: naive reporter", naive);
        return naive;
    }

    /** Rows of {@code build} that are not READY, asked of the control plane one workspace at a time. */
    private static long stuckRows(AdminClient admin, List<String> names, long build, Duration timeout) {
        Long stuck = Flux.fromIterable(names)
                .flatMap(name -> admin.rows(name, 1).next(), ADMIN_STREAMS_IN_FLIGHT)
                .filter(row -> row.buildNumber() != build || row.state() != LifecycleState.READY)
                .count()
                .block(timeout);
        return stuck == null ? -1 : stuck;
    }

    private Map<String, Object> convergence(RowTracker.Convergence convergence, long startNanos) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("complete", convergence.complete());
        result.put("rows_ready", convergence.ready());
        result.put("seconds_to_all_ready", convergence.complete() ? seconds(convergence.lastReadyNanos() - startNanos)
                : Double.NaN);
        result.put("per_agent_latency_ms", percentiles(convergence.latencyNanos()));
        return result;
    }

    private static Map<String, Object> percentiles(Histogram nanos) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("count", nanos.getTotalCount());
        result.put("p50", nanos.getValueAtPercentile(50) / 1e6);
        result.put("p99", nanos.getValueAtPercentile(99) / 1e6);
        result.put("max", nanos.getMaxValue() / 1e6);
        return result;
    }

    private void markPhase() {
        phaseStartNanos = System.nanoTime();
        phaseStartCp = controlPlane.cpu();
        phaseStartOwnCpu = ownCpuNanos();
        phaseStartPostgres = postgresCpu == null ? Duration.ZERO : postgresCpu.cpu();
        phaseStartWrites = controlPlane.writeStats();
    }

    private void endPhase(String name, Map<String, Object> summary) {
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("phase", name);
        cpu.put("wall_seconds", seconds(System.nanoTime() - phaseStartNanos));
        cpu.put("control_plane_cpu_seconds", seconds(controlPlane.cpu().minus(phaseStartCp).toNanos()));
        cpu.put("harness_cpu_seconds", seconds(ownCpuNanos() - phaseStartOwnCpu));
        if (postgresCpu != null) {
            cpu.put("postgres_cpu_seconds", seconds(postgresCpu.cpu().minus(phaseStartPostgres).toNanos()));
        }
        WriteStats writes = controlPlane.writeStats().since(phaseStartWrites);
        if (writes.batches() > 0) {
            // Each batch is one commit: on H2 one forced sync of the file, on PostgreSQL one WAL flush.
            cpu.put("store_commits", writes.batches());
            cpu.put("store_commits_per_second", writes.batches() / seconds(System.nanoTime() - phaseStartNanos));
            cpu.put("store_batch_size_p50", writes.batchSizeAt(0.5));
            cpu.put("store_batch_size_p99", writes.batchSizeAt(0.99));
            // The writer's two lanes: from each batch's start to its commit, and publishing each batch's
            // rows and answering its callers (which overlaps the next batch's commit).
            cpu.put("store_committing_seconds", seconds(writes.committingNanos()));
            cpu.put("store_answering_seconds", seconds(writes.answeringNanos()));
        }
        cpuByPhase.add(cpu);
        progress(name + ": " + summary + " " + cpu);
    }

    private static long ownCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Waits (up to 30 s) until this process holds no more file descriptors than it did before the agents. */
    private static void awaitSocketsClosed() throws InterruptedException {
        for (int i = 0; i < 300 && openFileDescriptors() > 200; i++) {
            Thread.sleep(100);
        }
    }

    private static long openFileDescriptors() {
        File[] fds = new File("/proc/self/fd").listFiles();
        return fds == null ? 0 : fds.length;
    }

    private int report(boolean baselineReproduced) {
        results.put("cpu", cpuByPhase);
        Object stuck = results.getOrDefault("stuck_rows", -1L);
        boolean ok = Long.valueOf(0).equals(stuck) && baselineReproduced;
        results.put("ok", ok);
        if (json != null) {
            try {
                Files.writeString(json, Json.write(results) + "\n");
            } catch (IOException e) {
                progress("could not write " + json + ": " + e);
            }
        }
        System.out.print(StormReport.table(results));
        return ok ? 0 : 1;
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static void progress(String line) {
        System.err.println("storm: " + line);
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }
}
