package dev.agentcore.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
}
