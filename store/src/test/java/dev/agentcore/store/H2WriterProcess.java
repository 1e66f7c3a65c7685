package dev.agentcore.store;

import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.LifecycleService;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;

/**
 * A control-plane process for {@link H2DurabilityTest}: writes lifecycle updates to an H2 file
 * store as fast as it can and prints {@code ACK <version>} for each acknowledged write, until it
 * is killed.
 */
public final class H2WriterProcess {

    public static void main(String[] args) throws InterruptedException {
        Duration timeout = Duration.ofSeconds(30);
        R2dbcAgentStore store = R2dbcAgentStore.openH2File(Path.of(args[0])).block(timeout);
        LifecycleService service = LifecycleService.builder(store).build();
        AgentRow row = service.startBuild("ws").block(timeout);
        System.out.println("ROW " + row.agentId());
        for (int process = 0; ; process++) {
            // Each round is a restarted agent process: a new chain through STARTING and READY.
            ChainId chain = new ChainId("process-" + process, 0);
            for (LifecycleState state : new LifecycleState[] {LifecycleState.STARTING, LifecycleState.READY}) {
                long seq = state == LifecycleState.STARTING ? 1 : 2;
                LifecycleAck ack = service.apply(row.agentId(), new LifecycleUpdate(chain, seq, state, Instant.now(), false,
                        null)).block(timeout);
                if (ack.outcome() == LifecycleAck.Outcome.APPLIED) {
                    System.out.println("ACK " + store.findRow(row.agentId()).block(timeout).version());
                    System.out.flush();
                }
            }
            if (process == 10_000) {
                // Nobody killed us: wait to be killed rather than exit cleanly.
                new CountDownLatch(1).await();
            }
        }
    }
}
