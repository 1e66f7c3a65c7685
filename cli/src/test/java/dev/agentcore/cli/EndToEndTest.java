package dev.agentcore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.transport.AdminClient;
import dev.agentcore.transport.ControlPlaneAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The command line as people run it: the control plane, agents and tools as separate JVM
 * processes on real sockets, with an H2 file store.
 */
class EndToEndTest extends CommandLineProcesses {

    @Test
    void agentFrozenAcrossABuildBoundaryReplaysOntoTheNewRowAndShutsDownOnSigterm() throws Exception {
        startControlPlane();
        Process agent = startAgent("dev", "--startup-script", "sleep 0.2", "--blocking");
        assertThat(admin("wait", "dev", "--timeout", "60s").exitCode()).isZero();

        // The VM is suspended; a new build creates a new row; the VM resumes.
        new ProcessBuilder("kill", "-STOP", Long.toString(agent.pid())).start().waitFor();
        Result build = admin("build", "start", "dev", "--json");
        assertThat(field(build.stdout(), "build_number")).isEqualTo("2");
        new ProcessBuilder("kill", "-CONT", Long.toString(agent.pid())).start().waitFor();

        Result waited = admin("wait", "dev", "--timeout", "60s");
        assertThat(waited.exitCode()).as(waited.stderr()).isZero();
        assertThat(waited.stdout()).contains("dev: build 2 is READY");
        Result status = admin("status", "dev", "--json");
        String current = status.stdout().substring(status.stdout().indexOf("\"current\":"));
        assertThat(field(current, "build_number")).isEqualTo("2");
        assertThat(field(current, "state")).isEqualTo("READY");
        Instant createdAt = Instant.parse(field(current, "created_at"));
        Instant startedAt = Instant.parse(field(current, "started_at"));
        Instant readyAt = Instant.parse(field(current, "ready_at"));
        assertThat(startedAt).isAfterOrEqualTo(createdAt).isBefore(readyAt);

        // SIGTERM: the agent walks SHUTTING_DOWN, then OFF, then exits.
        String adminToken = Files.readString(directory.resolve("data/admin.token")).strip();
        try (AdminClient client = AdminClient.connect(ControlPlaneAddress.tcp("127.0.0.1", port), adminToken)
                .block(TIMEOUT)) {
            StepVerifier.create(client.watch("dev").map(row -> row.state()).distinct()
                            .filter(state -> state != LifecycleState.READY).take(2))
                    .then(agent::destroy)
                    .expectNext(LifecycleState.SHUTTING_DOWN, LifecycleState.OFF)
                    .expectComplete()
                    .verify(TIMEOUT);
        }
        assertThat(agent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    /** Kills the control plane with SIGKILL mid-flight, restarts it on the same store and port. */
    private void controlPlaneKilledAndRestartedLosesNothing(String... storeOptions) throws Exception {
        startControlPlane(storeOptions);
        Process agent = startAgent("dev", "--startup-script", "sleep 0.2");
        assertThat(admin("wait", "dev", "--timeout", "60s").exitCode()).isZero();

        controlPlane.destroyForcibly(); // SIGKILL: no shutdown hook runs, nothing is flushed on the way out
        assertThat(controlPlane.waitFor(30, TimeUnit.SECONDS)).isTrue();
        startControlPlane(storeOptions);

        // The acknowledged READY survived; the agent reconnects and its next transitions land.
        Result status = admin("status", "dev", "--json");
        assertThat(field(status.stdout().substring(status.stdout().indexOf("\"current\":")), "state")).isEqualTo("READY");
        agent.destroy();
        assertThat(agent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        Result off = admin("status", "dev", "--json");
        assertThat(field(off.stdout().substring(off.stdout().indexOf("\"current\":")), "state")).isEqualTo("OFF");
    }

    @Test
    void controlPlaneKilledWithSigkillOnItsH2FileLosesNothing() throws Exception {
        controlPlaneKilledAndRestartedLosesNothing();
    }

    @Test
    void controlPlaneKilledWithSigkillOnPostgresLosesNothing() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            controlPlaneKilledAndRestartedLosesNothing("--store",
                    "r2dbc:postgresql://postgres@127.0.0.1:" + postgres.getPort() + "/postgres");
        }
    }

    @Test
    void waitExitCodesTellStartErrorStartTimeoutAndItsOwnTimeoutApart() throws Exception {
        startControlPlane();
        startAgent("broken", "--startup-script", "exit 3");
        startAgent("slow", "--startup-script", "sleep 60", "--startup-timeout", "1s");
        assertThat(admin("workspace", "create", "idle").exitCode()).isZero();
        assertThat(admin("build", "start", "idle").exitCode()).isZero();

        Result broken = admin("wait", "broken", "--timeout", "60s");
        assertThat(broken.exitCode()).as(broken.stdout() + broken.stderr()).isEqualTo(ExitCodes.START_ERROR);
        assertThat(broken.stdout()).contains("START_ERROR");
        Result slow = admin("wait", "slow", "--timeout", "60s");
        assertThat(slow.exitCode()).as(slow.stdout() + slow.stderr()).isEqualTo(ExitCodes.START_TIMEOUT);
        Result idle = admin("wait", "idle", "--timeout", "1s");
        assertThat(idle.exitCode()).isEqualTo(ExitCodes.WAIT_TIMEOUT);
        assertThat(admin("build", "stop", "idle").exitCode()).isZero();
        assertThat(admin("wait", "idle", "--timeout", "60s").exitCode()).isEqualTo(ExitCodes.SHUTTING_DOWN);
    }

    /** A startup script that leaves a long-lived child behind, which writes its pid to a file. */
    private static final String FORKS_A_CHILD = "sleep 300 & echo $! > child-of-%s.pid; wait";

    @Test
    void aStartupScriptPastItsTimeoutEndsWithTheProcessesItStarted() throws Exception {
        startControlPlane();
        startAgent("slow", "--startup-script", FORKS_A_CHILD.formatted("slow"), "--startup-timeout", "1s");

        Result slow = admin("wait", "slow", "--timeout", "60s");
        assertThat(slow.exitCode()).as(slow.stdout() + slow.stderr()).isEqualTo(ExitCodes.START_TIMEOUT);
        assertEnds(childPid("slow"));
    }

    @Test
    void sigtermDuringAStartupScriptEndsTheProcessesItStarted() throws Exception {
        startControlPlane();
        Process agent = startAgent("dev", "--startup-script", FORKS_A_CHILD.formatted("dev"), "--startup-timeout", "10m");
        long child = childPid("dev");

        agent.destroy(); // SIGTERM

        assertThat(agent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertEnds(child);
    }

    /** The pid the script wrote, once it has written it. */
    private long childPid(String workspace) {
        Path file = directory.resolve("child-of-" + workspace + ".pid");
        return Flux.interval(Duration.ofMillis(20))
                .map(tick -> readOrEmpty(file))
                .filter(text -> text.endsWith("\n"))
                .map(text -> Long.parseLong(text.strip()))
                .blockFirst(TIMEOUT);
    }

    /** Waits until the process is gone, or a zombie nobody reaped (here init may not reap): it runs no more. */
    private static void assertEnds(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        Boolean ended = Flux.interval(Duration.ofMillis(20))
                .map(tick -> {
                    String text = readOrEmpty(stat);
                    return text.isEmpty() || text.substring(text.lastIndexOf(')') + 2).startsWith("Z");
                })
                .filter(gone -> gone)
                .timeout(TIMEOUT, Mono.just(false))
                .blockFirst();
        assertThat(ended).as("the script's child %d has ended", pid).isTrue();
    }

    @Test
    void waitReturnsAtStartingForANonBlockingWorkspaceAndAtReadyForABlockingOne() throws Exception {
        startControlPlane();
        startAgent("blocky", "--startup-script", "sleep 300"); // --blocking, as startAgent makes them
        assertThat(admin("workspace", "create", "open", "--identity-file", "open.identity",
                "--startup-script", "sleep 300").exitCode()).isZero();
        assertThat(admin("build", "start", "open").exitCode()).isZero();
        start("agent-open", "agent", "--control-plane", "127.0.0.1:" + port, "--identity-file", "open.identity");

        Result open = admin("wait", "open", "--timeout", "60s");
        assertThat(open.exitCode()).as(open.stdout() + open.stderr()).isZero();
        assertThat(open.stdout()).contains("open: build 1 is STARTING; its startup does not block logins");
        Result blocky = admin("wait", "blocky", "--timeout", "3s");
        assertThat(blocky.exitCode()).as(blocky.stdout() + blocky.stderr()).isEqualTo(ExitCodes.WAIT_TIMEOUT);
        assertThat(blocky.stdout()).contains("blocky: still STARTING after PT3S");
    }

    @Test
    void workspaceListAndWatchShowWhatTheControlPlaneHas() throws Exception {
        startControlPlane();
        assertThat(admin("workspace", "list").stdout()).contains("no workspaces");
        assertThat(admin("workspace", "create", "b-ws", "--startup-script", "true", "--blocking").exitCode()).isZero();
        assertThat(admin("workspace", "create", "a-ws", "--shutdown-script", "true").exitCode()).isZero();
        assertThat(admin("build", "start", "b-ws").exitCode()).isZero();

        List<String> lines = admin("workspace", "list").stdout().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).startsWith("a-ws").contains("0 startup, 1 shutdown").doesNotContain("blocks logins");
        assertThat(lines.get(1)).startsWith("b-ws").contains("1 startup, 0 shutdown script(s), startup blocks logins");
        String json = admin("workspace", "list", "--json").stdout().strip();
        // The schema's JSON (WorkspaceDescription): field names as in the .proto, a Duration as "300s".
        assertThat(json).startsWith("[{\"workspace\":\"a-ws\"").endsWith("}]")
                .contains("{\"workspace\":\"b-ws\",\"agent_name\":\"b-ws-agent\",\"startup_scripts\":"
                        + "[{\"command\":\"true\",\"timeout\":\"300s\",\"blocks_login\":true}],"
                        + "\"shutdown_scripts\":[],\"blocking\":true}");

        List<String> token = List.of("--control-plane", "127.0.0.1:" + port, "--admin-token-file", "data/admin.token");
        start("watch-b", java.util.stream.Stream.concat(java.util.stream.Stream.of("watch", "b-ws"), token.stream())
                .toArray(String[]::new));
        start("watch-all", java.util.stream.Stream.concat(java.util.stream.Stream.of("watch", "--json"), token.stream())
                .toArray(String[]::new));
        awaitLine("watch-b.out", "b-ws  build 1  CREATED"); // the latest row first
        // `watch` without a name sees changes from its start on: start builds until one shows.
        Flux.interval(Duration.ofMillis(200))
                .concatMap(tick -> Mono.fromCallable(() -> admin("build", "start", "a-ws")))
                .takeUntil(result -> readOrEmpty(directory.resolve("watch-all.out")).contains("\"workspace\":\"a-ws\""))
                .blockLast(TIMEOUT);

        String all = readOrEmpty(directory.resolve("watch-all.out"));
        assertThat(all.lines().filter(line -> !line.isBlank()))
                .allSatisfy(line -> assertThat(line).startsWith("{\"agent_id\":").endsWith("}"));
        assertThat(admin("build", "start", "b-ws").exitCode()).isZero();
        awaitLine("watch-b.out", "b-ws  build 2  CREATED");
    }

    @Test
    void aNewIdentityLocksTheAgentOutAndDeletingTheWorkspaceRetiresItsRow() throws Exception {
        startControlPlane();
        Process agent = startAgent("dev", "--startup-script", "true");
        assertThat(admin("wait", "dev", "--timeout", "60s").exitCode()).isZero();

        Result rotated = admin("workspace", "rotate-identity", "dev", "--json", "--identity-file", "new.identity");

        assertThat(rotated.exitCode()).as(rotated.stderr()).isZero();
        String renewed = field(rotated.stdout(), "instance_identity");
        assertThat(Files.readString(directory.resolve("new.identity")).strip()).isEqualTo(renewed);
        assertThat(renewed).isNotEqualTo(Files.readString(directory.resolve("dev.identity")).strip());
        // Its connection closed, the old identity refused again and again: the agent gives up with its code.
        assertThat(agent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("the agent with the old identity stops")
                .isTrue();
        assertThat(agent.exitValue()).isEqualTo(ExitCodes.IDENTITY_REFUSED);

        Process renewedAgent = start("agent-renewed", "agent", "--control-plane", "127.0.0.1:" + port,
                "--identity-file", "new.identity");
        assertThat(admin("build", "start", "dev").exitCode()).isZero();
        assertThat(admin("wait", "dev", "--timeout", "60s").exitCode()).isZero();

        Result deleted = admin("workspace", "delete", "dev");
        assertThat(deleted.exitCode()).as(deleted.stderr()).isZero();
        assertThat(deleted.stdout()).contains("workspace dev deleted");
        assertThat(admin("workspace", "list").stdout()).contains("no workspaces");
        assertThat(renewedAgent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("the agent of a deleted workspace stops")
                .isTrue();
        Result again = admin("workspace", "delete", "dev");
        assertThat(again.exitCode()).isEqualTo(ExitCodes.ERROR);
        assertThat(again.stderr()).contains("no workspace named dev");
    }

    private void awaitLine(String file, String expected) {
        Flux.interval(Duration.ofMillis(50))
                .filter(tick -> readOrEmpty(directory.resolve(file)).contains(expected))
                .blockFirst(TIMEOUT);
    }

    @Test
    void jsonLogsAreOneObjectPerLineWithLevelAndMessage() throws Exception {
        Process controlPlane = start("control-plane", "control-plane", "--log-format", "json", "--listen", "127.0.0.1:0",
                "--data-dir", "data");
        listeningAddress("control-plane.out");
        controlPlane.destroy();
        assertThat(controlPlane.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();

        List<String> lines = Files.readAllLines(directory.resolve("control-plane.err")).stream()
                .filter(line -> !line.isBlank()).toList();
        assertThat(lines).isNotEmpty().allSatisfy(line -> assertThat(line).startsWith("{").endsWith("}"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("\"level\":\"INFO\"")
                .contains("\"formattedMessage\":\"wrote a new admin token to "));
        assertThat(run("status", "x", "--log-format", "yaml").exitCode()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void demoShowsTheNaiveRowStuckAndAgentcoresRowReady() throws Exception {
        Result demo = run("demo");

        assertThat(demo.exitCode()).as(demo.stdout() + demo.stderr()).isZero();
        assertThat(demo.stdout()).containsPattern("naive +naive +2 +CREATED .*stuck");
        assertThat(demo.stdout()).containsPattern("agentcore +agentcore +2 +READY .*replayed");
    }

    @Test
    void badUsageAndAnUnreachableControlPlaneGiveClearErrors() throws Exception {
        Result usage = run("wait");
        assertThat(usage.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(usage.stderr()).contains("Missing required parameter: 'NAME'");

        Result noRate = run("control-plane", "--update-rate", "0", "--data-dir", directory.resolve("unused").toString());
        assertThat(noRate.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noRate.stderr()).contains("--update-rate and --update-burst must be positive");

        Files.writeString(directory.resolve("token"), "some-admin-token-0123456789");
        Result unreachable = run("status", "dev", "--control-plane", "127.0.0.1:1", "--admin-token-file", "token");
        assertThat(unreachable.exitCode()).isEqualTo(ExitCodes.ERROR);
        assertThat(unreachable.stderr()).startsWith("agentcore: ").contains("Connection refused");

        Result noToken = run("status", "dev", "--admin-token-file", "missing.token");
        assertThat(noToken.exitCode()).isEqualTo(ExitCodes.ERROR);
        assertThat(noToken.stderr()).contains("cannot read the admin token from missing.token");
    }

    /** Each failure is one line in words (no exception class names, control characters escaped), with its exit code. */
    private static void assertOneClearLine(Result result, int exitCode, String expected) {
        assertThat(result.exitCode()).as(result.stderr()).isEqualTo(exitCode);
        assertThat(result.stderr()).startsWith("agentcore: ").contains(expected).doesNotContain("Exception")
                .doesNotContain("\tat ");
        assertThat(result.stderr().strip().lines().filter(line -> line.startsWith("agentcore: "))).hasSize(1);
    }

    @Test
    void everyCommandLineErrorIsOneLineInWordsAndTheSameMistakeExitsTheSameWay() throws Exception {
        Files.writeString(directory.resolve("token"), "some-admin-token-0123456789");
        Files.writeString(directory.resolve("id"), "some-identity");
        // A malformed --control-plane is bad usage (2) for every command.
        assertOneClearLine(run("status", "dev", "--control-plane", "nonsense", "--admin-token-file", "token"),
                ExitCodes.USAGE, "--control-plane: ");
        assertOneClearLine(run("workspace", "create", "dev", "--control-plane", "nonsense", "--admin-token-file", "token"),
                ExitCodes.USAGE, "--control-plane: ");
        assertOneClearLine(run("agent", "--identity-file", "id", "--control-plane", "nonsense"),
                ExitCodes.USAGE, "--control-plane: ");
        // An unresolvable host: said in words.
        assertOneClearLine(run("status", "dev", "--control-plane", "no-such-host.invalid:7878", "--admin-token-file", "token"),
                ExitCodes.ERROR, "cannot resolve the control plane's host (Failed to resolve 'no-such-host.invalid'");
        // A name with a newline stays on one line.
        assertOneClearLine(run("workspace", "create", "dev\nagentcore: forged", "--admin-token-file", "token"),
                ExitCodes.USAGE, "was 'dev\\nagentcore: forged'");
        // Identity files: missing, empty, not UTF-8; each named with what is wrong.
        assertOneClearLine(run("agent", "--identity-file", "missing.identity"), ExitCodes.ERROR,
                "missing.identity: no such file");
        Files.writeString(directory.resolve("empty.identity"), "\n");
        assertOneClearLine(run("agent", "--identity-file", "empty.identity"), ExitCodes.ERROR,
                "empty.identity: the file is empty");
        Files.write(directory.resolve("binary.identity"), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        assertOneClearLine(run("agent", "--identity-file", "binary.identity"), ExitCodes.ERROR,
                "binary.identity: not UTF-8 text");
        // An unknown option is bad usage too, and says where to look.
        Result unknown = run("status", "dev", "--no-such-option");
        assertThat(unknown.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.stderr()).startsWith("agentcore: Unknown option: '--no-such-option'")
                .contains("Try 'agentcore status --help'");
    }

    @Test
    void anAgentThatReinitializesOnANewRowRunsItsStartupAgainAndReportsTheNewGeneration() throws Exception {
        startControlPlane();
        Path runs = directory.resolve("startup-runs");
        assertThat(admin("workspace", "create", "dev", "--identity-file", "dev.identity",
                "--startup-script", "echo ran >> " + runs, "--blocking").exitCode()).isZero();
        assertThat(admin("build", "start", "dev").exitCode()).isZero();
        Process agent = start("agent-dev", "agent", "--control-plane", "127.0.0.1:" + port,
                "--identity-file", "dev.identity", "--on-agent-change", "reinitialize");
        assertThat(admin("wait", "dev", "--timeout", "60s").exitCode()).isZero();
        assertThat(Files.readAllLines(runs)).hasSize(1);

        assertThat(admin("build", "start", "dev").exitCode()).isZero();
        assertThat(admin("wait", "dev", "--timeout", "60s").exitCode()).isZero();

        assertThat(Files.readAllLines(runs)).as("startup ran again for the new row, not replayed").hasSize(2);
        Result status = admin("status", "dev", "--json");
        assertThat(field(status.stdout().substring(status.stdout().indexOf("\"current\":")), "build_number")).isEqualTo("2");
        assertThat(Files.readString(directory.resolve("agent-dev.err"))).contains("reinitializing");
        terminate(agent);
        assertThat(agent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void theVersionShownIsTheOneTheBuildWasMadeAs() throws Exception {
        Result version = run("--version");

        assertThat(version.exitCode()).isZero();
        assertThat(version.stdout().strip()).isEqualTo("agentcore " + System.getProperty("agentcore.expectedVersion"))
                .doesNotContain("${");
    }

    @Test
    void sigtermWithoutAReachableControlPlaneRunsTheShutdownScriptsWarnsOnceAndExitsCleanly() throws Exception {
        startControlPlane();
        Process agent = startAgent("dev", "--startup-script", "true", "--shutdown-script", "touch shutdown-ran");
        assertThat(admin("wait", "dev", "--timeout", "60s").exitCode()).isZero();

        // The control plane is frozen: connections stay open, nothing is acknowledged.
        new ProcessBuilder("kill", "-STOP", Long.toString(controlPlane.pid())).start().waitFor();
        try {
            agent.destroy(); // SIGTERM
            assertThat(agent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        } finally {
            new ProcessBuilder("kill", "-CONT", Long.toString(controlPlane.pid())).start().waitFor();
        }
        String stderr = Files.readString(directory.resolve("agent-dev.err"));
        assertThat(Files.exists(directory.resolve("shutdown-ran"))).as("the shutdown script ran").isTrue();
        assertThat(stderr).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(stderr.lines().filter(line -> line.contains("WARN"))).singleElement().asString()
                .contains("OFF was not acknowledged within 10 s: the control plane could not be reached");
    }

    @Test
    void twoAgentProcessesWithOneIdentityTheLaterTakesTheRowTheEarlierExitsWithoutLooping() throws Exception {
        startControlPlane();
        Process first = startAgent("dev", "--startup-script", "true");
        assertThat(admin("wait", "dev", "--timeout", "60s").exitCode()).isZero();

        // A copy of the VM: a second process with the same identity file.
        Process second = start("agent-dev-copy", "agent", "--control-plane", "127.0.0.1:" + port,
                "--identity-file", "dev.identity");

        assertThat(first.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("the earlier process stops").isTrue();
        assertThat(first.exitValue()).isEqualTo(ExitCodes.SUPERSEDED);
        String firstLog = Files.readString(directory.resolve("agent-dev.err"));
        assertThat(firstLog).contains("WARN").contains("stopping: another agent process reports for this workspace");
        assertThat(firstLog.lines().filter(line -> line.contains("connected to"))).as("no reconnect loop").hasSize(1);
        assertThat(Files.readString(directory.resolve("control-plane.err")))
                .contains("WARN").contains("a new agent process (chain");
        assertThat(second.isAlive()).isTrue();
        Result status = admin("status", "dev", "--json");
        assertThat(field(status.stdout().substring(status.stdout().indexOf("\"current\":")), "state")).isEqualTo("READY");
    }

    @Test
    void anAgentWhoseIdentityIsRefusedExitsWithItsOwnCodeInsteadOfRetryingForever() throws Exception {
        startControlPlane();
        assertThat(admin("workspace", "create", "dev").exitCode()).isZero();
        Files.writeString(directory.resolve("wrong.identity"), "not-the-identity-of-any-workspace");

        Result refused = run("agent", "--control-plane", "127.0.0.1:" + port, "--identity-file", "wrong.identity");

        assertThat(refused.exitCode()).as(refused.stderr()).isEqualTo(ExitCodes.IDENTITY_REFUSED);
        assertThat(refused.stderr()).contains("agentcore: the instance identity was refused 10 times in a row: "
                + "check the identity file").doesNotContain("\tat ");
    }

    @Test
    void anAgentWhoseClockIsAnHourBehindGivesItsRowTheControlPlanesTimes() throws Exception {
        assertThat(Path.of("/usr/bin/faketime")).as("Debian's faketime (.ci/run installs it)").exists();
        startControlPlane();
        assertThat(admin("workspace", "create", "dev", "--identity-file", "dev.identity",
                "--startup-script", "sleep 1", "--blocking").exitCode()).isZero();
        assertThat(admin("build", "start", "dev").exitCode()).isZero();

        Process agent = start("agent-dev", List.of("faketime", "-f", "-1h"), "agent",
                "--control-plane", "127.0.0.1:" + port, "--identity-file", "dev.identity");
        Result ready = admin("wait", "dev", "--timeout", "60s");
        Instant now = Instant.now();

        assertThat(ready.exitCode()).as(ready.stdout() + ready.stderr()).isZero();
        Result status = admin("status", "dev", "--json");
        String current = status.stdout().substring(status.stdout().indexOf("\"current\":"));
        Instant createdAt = Instant.parse(field(current, "created_at"));
        Instant startedAt = Instant.parse(field(current, "started_at"));
        Instant readyAt = Instant.parse(field(current, "ready_at"));
        assertThat(startedAt).isAfter(createdAt);
        // The startup script sleeps 1 s: the build took that, in the control plane's time, not 0 and not an hour.
        assertThat(Duration.between(startedAt, readyAt)).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(30));
        assertThat(readyAt).isBefore(now);
        assertThat(Files.readString(directory.resolve("agent-dev.err")))
                .containsPattern("this agent's clock is 3[56][0-9]{5} ms behind the control plane's");
        // The agent's JVM is faketime's child: SIGTERM to faketime alone would leave it running.
        terminate(agent);
        assertThat(agent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }
}
