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
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every acknowledged row state survives the control plane stopping, cleanly or killed, and the
 * store always opens again on its file: each case is repeated, a restart after a restart.
 */
class H2DurabilityTest {

    private static final int RESTARTS = 3;

    @TempDir
    Path directory;

    @Test
    void acknowledgedStateSurvivesCleanRestarts() {
        ChainId chain = new ChainId("agent", 0);
        AgentRow acknowledged = null;
        for (int restart = 0; restart < RESTARTS; restart++) {
            R2dbcAgentStore store = R2dbcAgentStore.openH2File(directory).block(TIMEOUT);
            if (acknowledged != null) {
                assertThat(store.findRow(acknowledged.agentId()).block(TIMEOUT)).isEqualTo(acknowledged);
            }
            LifecycleService service = LifecycleService.builder(store).build();
            AgentRow row = service.startBuild("ws").block(TIMEOUT);
            service.apply(row.agentId(), new LifecycleUpdate(chain, 1, LifecycleState.STARTING, Instant.now(), false, null))
                    .block(TIMEOUT);
            // The last write is still in the writer's hands when close() is called: close waits for it.
            service.apply(row.agentId(), new LifecycleUpdate(chain, 2, LifecycleState.READY, Instant.now(), false, null))
                    .subscribe();
            store.close().block(TIMEOUT);
            R2dbcAgentStore reopened = R2dbcAgentStore.openH2File(directory).block(TIMEOUT);
            acknowledged = reopened.findRow(row.agentId()).block(TIMEOUT);
            assertThat(acknowledged.state()).isIn(LifecycleState.STARTING, LifecycleState.READY);
            reopened.close().block(TIMEOUT);
        }
    }

    @Test
    void acknowledgedStateSurvivesKilledProcesses() throws IOException, InterruptedException {
        Random random = new Random(20261128L);
        for (int kill = 0; kill < RESTARTS; kill++) {
            killedWriterLosesNothing(50 + random.nextInt(150));
        }
    }

    private void killedWriterLosesNothing(int acksBeforeKill) throws IOException, InterruptedException {
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
            // Kill it mid-stream, without warning.
            while (acks < acksBeforeKill && (line = output.readLine()) != null) {
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
        assertThat(lastAcknowledged).isGreaterThan(acksBeforeKill);

        R2dbcAgentStore reopened = R2dbcAgentStore.openH2File(directory).block(TIMEOUT);
        AgentRow row = reopened.findRow(AgentId.of(rowId)).block(TIMEOUT);
        assertThat(row.version()).as("every acknowledged write is on disk").isGreaterThanOrEqualTo(lastAcknowledged);
        assertThat(row.state()).isIn(LifecycleState.STARTING, LifecycleState.READY);
        reopened.close().block(TIMEOUT);
    }
}
