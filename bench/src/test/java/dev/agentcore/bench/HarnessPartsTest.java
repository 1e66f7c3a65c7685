package dev.agentcore.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The harness's small parts; the harness as a whole runs in CI as {@code agentcore bench storm --quick}. */
class HarnessPartsTest {

    @Test
    void jsonEscapesTextAndWritesNumbersMapsAndLists() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("name", "a \"quoted\"\\ line\nand a\u0001control");
        value.put("count", 3L);
        value.put("ratio", 0.5);
        value.put("missing", Double.NaN);
        value.put("ok", true);
        value.put("list", List.of(1, "two"));

        assertThat(Json.write(value)).isEqualTo("{\"name\":\"a \\\"quoted\\\"\\\\ line\\nand a\\u0001control\","
                + "\"count\":3,\"ratio\":0.500000,\"missing\":null,\"ok\":true,\"list\":[1,\"two\"]}");
    }

    @Test
    void processTreeCpuReadsARealProcessesTimeFromProc() throws Exception {
        ProcessHandle self = ProcessHandle.current();
        // Starting this JVM and these tests took far more than one clock tick of CPU.
        Duration cpu = new ProcessTreeCpu(self.pid()).cpu();

        assertThat(cpu).isPositive();
        assertThat(cpu).isLessThanOrEqualTo(self.info().totalCpuDuration().orElseThrow().plusSeconds(1));
    }

    @Test
    void processTreeCpuOfAProcessThatIsGoneIsZero() {
        assertThat(new ProcessTreeCpu(Long.MAX_VALUE).cpu()).isZero();
    }

    @Test
    void theWarmUpIsReadAndANegativeOneIsRefusedBeforeAnythingStarts() {
        StormCommand given = new StormCommand();
        new CommandLine(given).parseArgs("--warm-up", "20");
        assertThat(given.warmUpSeconds).isEqualTo(20);

        assertThat(refused("--warm-up", "-1")).contains("--warm-up not negative");
    }

    @Test
    void boundariesAndTheIdleWindowAreReadAndZeroIsRefusedBeforeAnythingStarts() {
        StormCommand defaults = new StormCommand();
        new CommandLine(defaults).parseArgs();
        assertThat(defaults.boundaries).isEqualTo(2);
        assertThat(defaults.idleSeconds).isEqualTo(5);
        StormCommand given = new StormCommand();
        new CommandLine(given).parseArgs("--boundaries", "5", "--idle-seconds", "3");
        assertThat(given.boundaries).isEqualTo(5);
        assertThat(given.idleSeconds).isEqualTo(3);

        assertThat(refused("--boundaries", "0")).contains("--boundaries");
        assertThat(refused("--idle-seconds", "0")).contains("--idle-seconds");
    }

    /** What the storm says on stderr when it refuses {@code args} with exit code 2, before starting anything. */
    private static String refused(String... args) {
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        PrintStream err = System.err;
        System.setErr(new PrintStream(said, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = new CommandLine(new StormCommand()).execute(args);
        } finally {
            System.setErr(err);
        }
        assertThat(exit).isEqualTo(2);
        return said.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theReportsFirstLineSaysTheWarmUpWhenOneWasGiven() {
        Map<String, Object> results = tenAgentsInMemory();
        assertThat(StormReport.table(results)).startsWith("agentcore storm: 10 agents, store mem, protocol v2, seed 7\n");

        results.put("warm_up_seconds", 20);
        assertThat(StormReport.table(results))
                .startsWith("agentcore storm: 10 agents, store mem, protocol v2, seed 7, warm-up 20 s\n");
    }

    @Test
    void theReportSaysHowManyBoundariesRanAndWhatTheIdleFleetCost() {
        Map<String, Object> results = tenAgentsInMemory();
        results.put("boundaries", 4);
        results.put("idle", Map.of("seconds", 5, "control_plane_cpu_us_per_agent_second", 12.5,
                "harness_cpu_us_per_agent_second", 20.25));
        assertThat(StormReport.table(results))
                .startsWith("agentcore storm: 10 agents, store mem, protocol v2, seed 7, 4 build boundaries (the last measured)\n")
                .contains("idle, all connected:     CPU per agent per second 12.5 us in the control plane, 20.3 us in "
                        + "the agents' JVM (over 5 s)");
    }

    /** The least a report needs: 10 agents in memory, protocol v2, seed 7, no phase run. */
    private static Map<String, Object> tenAgentsInMemory() {
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("agents", 10);
        results.put("store", "mem");
        results.put("protocol", "v2");
        results.put("seed", 7L);
        results.put("cpu", List.of());
        return results;
    }
}
