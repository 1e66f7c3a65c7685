package dev.agentcore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.transport.AdminClient;
import dev.agentcore.transport.ControlPlaneAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The agent command's default policy, AUTO, with real processes: an agent frozen across a build
 * replays onto the new row when the build runs the same scripts, and runs the new startup when
 * {@code workspace update} changed them.
 */
class AgentChangePolicyTest extends CommandLineProcesses {

    private Path runs;

    /** A control plane, a blocking workspace whose startup appends to a file, its first build READY under an agent. */
    private Process agentReadyOnTheFirstBuild() throws Exception {
        startControlPlane();
        runs = directory.resolve("startup-runs");
        Process agent = startAgent("dev", "--startup-script", "echo first >> " + runs);
        Result waited = admin("wait", "dev", "--timeout", "60s");
        assertThat(waited.exitCode()).as(waited.stderr()).isZero();
        assertThat(Files.readAllLines(runs)).containsExactly("first");
        return agent;
    }

    private static void signal(Process process, String signal) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor()).isZero();
    }

    @Test
    void anAgentFrozenAcrossABuildThatRunsTheSameScriptsReplaysWithoutRunningStartupAgain() throws Exception {
        Process agent = agentReadyOnTheFirstBuild();

        signal(agent, "STOP");
        assertThat(admin("build", "start", "dev").exitCode()).isZero();
        signal(agent, "CONT");

        Result waited = admin("wait", "dev", "--timeout", "60s");
        assertThat(waited.exitCode()).as(waited.stderr()).isZero();
        assertThat(waited.stdout()).contains("dev: build 2 is READY");
        assertThat(Files.readAllLines(runs)).as("startup not run again").containsExactly("first");
        assertThat(Files.readString(directory.resolve("agent-dev.err")))
                .contains("(REPLAY: the new build's manifest runs the same scripts)");
        terminate(agent);
        assertThat(agent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void anAgentFrozenAcrossABuildWhoseStartupChangedRunsTheNewScriptOnTheNewRow() throws Exception {
        Process agent = agentReadyOnTheFirstBuild();
        AgentRow first = latestRow();

        signal(agent, "STOP");
        Result updated = admin("workspace", "update", "dev", "--startup-script", "echo second >> " + runs + "; sleep 1");
        assertThat(updated.exitCode()).as(updated.stderr()).isZero();
        assertThat(updated.stdout()).contains("workspace dev updated: its next builds run 1 startup and 0 shutdown "
                + "script(s), startup blocks logins");
        assertThat(admin("build", "start", "dev").exitCode()).isZero();
        signal(agent, "CONT");

        Result waited = admin("wait", "dev", "--timeout", "60s");
        assertThat(waited.exitCode()).as(waited.stderr()).isZero();
        assertThat(waited.stdout()).contains("dev: build 2 is READY");
        assertThat(Files.readAllLines(runs)).as("the new startup ran, once").containsExactly("first", "second");
        AgentRow second = latestRow();
        assertThat(second.buildNumber()).isEqualTo(2);
        assertThat(second.scriptsRevision()).isEqualTo(2);
        assertThat(second.state()).isEqualTo(LifecycleState.READY);
        assertThat(Duration.between(second.startedAt(), second.readyAt())).as("the new script's sleep, timed on the new row")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(second.startedAt()).isAfter(first.readyAt());
        assertThat(Files.readString(directory.resolve("agent-dev.err")))
                .contains("(REINITIALIZE: the new build's manifest changed)");
        terminate(agent);
        assertThat(agent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void workspaceUpdateChangesWhatANewBuildRunsAndRefusesWhatMakesNoSense() throws Exception {
        startControlPlane();
        assertThat(admin("workspace", "create", "dev", "--startup-script", "true", "--blocking",
                "--shutdown-script", "echo bye").exitCode()).isZero();
        assertThat(admin("build", "start", "dev").exitCode()).isZero();

        Result json = admin("workspace", "update", "dev", "--startup-script", "make up", "--startup-timeout", "90s",
                "--json");
        assertThat(json.exitCode()).as(json.stderr()).isZero();
        assertThat(json.stdout().strip()).as("blocking kept, shutdown kept").isEqualTo("{\"workspace\":\"dev\","
                + "\"agent_name\":\"dev-agent\",\"startup_scripts\":[{\"command\":\"make up\",\"timeout\":\"90s\","
                + "\"blocks_login\":true}],\"shutdown_scripts\":[{\"command\":\"echo bye\",\"timeout\":\"60s\",\"blocks_login\":false}],"
                + "\"blocking\":true}");
        Result none = admin("workspace", "update", "dev", "--no-shutdown-scripts");
        assertThat(none.stdout()).contains("its next builds run 1 startup and 0 shutdown script(s)");
        Result nonBlocking = admin("workspace", "update", "dev", "--startup-script", "true", "--no-blocking");
        assertThat(nonBlocking.stdout()).doesNotContain("blocks logins");
        Result status = admin("status", "dev", "--json");
        assertThat(field(status.stdout().substring(status.stdout().indexOf("\"current\":")), "scripts_revision"))
                .as("the running build keeps the scripts it started with").isEqualTo("1");
        assertThat(admin("build", "start", "dev").exitCode()).isZero();
        Result after = admin("status", "dev", "--json");
        assertThat(field(after.stdout().substring(after.stdout().indexOf("\"current\":")), "scripts_revision"))
                .isEqualTo("4");

        for (List<String> wrong : List.of(List.of("workspace", "update", "dev"),
                List.of("workspace", "update", "dev", "--startup-script", "x", "--no-startup-scripts"),
                List.of("workspace", "update", "dev", "--no-shutdown-scripts", "--blocking"))) {
            Result refused = admin(wrong.toArray(String[]::new));
            assertThat(refused.exitCode()).as("%s", wrong).isEqualTo(ExitCodes.USAGE);
            assertThat(refused.stderr().lines().count()).as(refused.stderr()).isEqualTo(1);
        }
        Result unknown = admin("workspace", "update", "nope", "--no-startup-scripts");
        assertThat(unknown.exitCode()).isNotZero();
        assertThat(unknown.stderr()).contains("no workspace named nope");
        Result help = run("workspace", "update", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.stdout()).contains("--startup-script", "--no-startup-scripts", "--[no-]blocking",
                "Changes the scripts of a workspace's next builds. The build running now keeps");
    }

    private AgentRow latestRow() throws Exception {
        String adminToken = Files.readString(directory.resolve("data/admin.token")).strip();
        try (AdminClient client = AdminClient.connect(ControlPlaneAddress.tcp("127.0.0.1", port), adminToken)
                .block(TIMEOUT)) {
            return client.rows("dev", 1).blockFirst(TIMEOUT);
        }
    }
}
