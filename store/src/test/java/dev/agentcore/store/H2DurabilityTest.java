package dev.agentcore.store;

import static dev.agentcore.store.TestDatabases.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.LifecycleService;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every acknowledged row state survives the control plane stopping, cleanly or killed. */
class H2DurabilityTest {

    @TempDir
    Path directory;

    @Test
    void acknowledgedStateSurvivesACleanRestart() {
        R2dbcAgentStore first = R2dbcAgentStore.openH2File(directory).block(TIMEOUT);
        LifecycleService service = LifecycleService.builder(first).build();
        AgentRow row = service.startBuild("ws").block(TIMEOUT);
        ChainId chain = new ChainId("agent", 0);
        service.apply(row.id(), new LifecycleUpdate(chain, 1, LifecycleState.STARTING, Instant.now(), false, null))
                .block(TIMEOUT);
        service.apply(row.id(), new LifecycleUpdate(chain, 2, LifecycleState.READY, Instant.now(), false, null))
                .block(TIMEOUT);
        AgentRow acknowledged = first.findRow(row.id()).block(TIMEOUT);
        first.dispose();

        R2dbcAgentStore second = R2dbcAgentStore.openH2File(directory).block(TIMEOUT);
        assertThat(second.findRow(row.id()).block(TIMEOUT)).isEqualTo(acknowledged);
        second.dispose();
    }

    @Test
    void acknowledgedStateSurvivesAKilledProcess() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process writer = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                H2WriterProcess.class.getName(), directory.toString()))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String rowId = null;
        long lastAcknowledged = 0;
        try (BufferedReader output = new BufferedReader(new InputStreamReader(writer.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            int acks = 0;
            // Kill it mid-stream, without warning, after 100 acknowledged writes.
            while (acks < 100 && (line = output.readLine()) != null) {
                if (line.startsWith("ROW ")) {
                    rowId = line.substring(4);
                } else if (line.startsWith("ACK ")) {
                    lastAcknowledged = Long.parseLong(line.substring(4));
                    acks++;
                }
            }
            writer.destroyForcibly(); // SIGKILL: no shutdown hook, no clean close of the store
            assertThat(writer.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(rowId).isNotNull();
        assertThat(lastAcknowledged).isGreaterThan(100);

        R2dbcAgentStore reopened = R2dbcAgentStore.openH2File(directory).block(TIMEOUT);
        AgentRow row = reopened.findRow(AgentId.of(rowId)).block(TIMEOUT);
        assertThat(row.version()).as("every acknowledged write is on disk").isGreaterThanOrEqualTo(lastAcknowledged);
        assertThat(row.state()).isIn(LifecycleState.STARTING, LifecycleState.READY);
        reopened.dispose();
    }
}
