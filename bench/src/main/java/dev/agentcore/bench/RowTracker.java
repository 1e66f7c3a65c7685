package dev.agentcore.bench;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.transport.AdminClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;
import reactor.core.Disposable;

/**
 * Follows the control plane's row changes (the admin changes stream) while a build is awaited,
 * and notes per workspace when a row of that build first became READY: the storm's clock, as the
 * control plane sees it. Subscribed only while awaiting, so the steady and throughput phases do
 * not pay for a watcher.
 */
final class RowTracker {

    /** What one awaited build came to. */
    record Convergence(boolean complete, int ready, long lastReadyNanos, Histogram latencyNanos) {
    }

    private final AdminClient admin;
    private final long build;
    private final int expected;
    private final Map<String, Long> startedAt;
    private final Map<String, Long> readyAt = new ConcurrentHashMap<>();
    private final CompletableFuture<Long> all = new CompletableFuture<>();
    private final Disposable subscription;

    private RowTracker(AdminClient admin, long build, int expected, Map<String, Long> startedAt) {
        this.admin = admin;
        this.build = build;
        this.expected = expected;
        this.startedAt = startedAt;
        this.subscription = admin.changes().subscribe(this::on, all::completeExceptionally);
    }

    /**
     * Awaits {@code build} READY in {@code expected} workspaces; {@code startedAt} holds the nanoTime
     * each workspace's build was asked for, filled in by the caller as it asks. Returns once the
     * subscription is in place: the control plane handles one connection's frames in order, so a
     * round trip after the subscription's frame (a read of {@code anyWorkspace}) proves it arrived.
     */
    static RowTracker await(AdminClient admin, long build, int expected, Map<String, Long> startedAt,
                            String anyWorkspace, Duration timeout) {
        RowTracker tracker = new RowTracker(admin, build, expected, startedAt);
        admin.rows(anyWorkspace, 1).then().block(timeout);
        return tracker;
    }

    private void on(AgentRow row) {
        if (row.buildNumber() != build || row.state() != LifecycleState.READY) {
            return;
        }
        long now = System.nanoTime();
        if (readyAt.putIfAbsent(row.workspace(), now) == null && readyAt.size() == expected) {
            all.complete(now);
        }
    }

    /** Waits up to {@code timeout} for every awaited workspace to be READY, then unsubscribes. */
    Convergence result(Duration timeout) throws InterruptedException {
        boolean complete;
        try {
            all.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            complete = readyAt.size() >= expected;
        } catch (TimeoutException | ExecutionException e) {
            complete = false;
        } finally {
            subscription.dispose();
        }
        Histogram latencies = new Histogram(3);
        long last = 0;
        for (Map.Entry<String, Long> ready : readyAt.entrySet()) {
            Long started = startedAt.get(ready.getKey());
            last = Math.max(last, ready.getValue());
            if (started != null) {
                latencies.recordValue(Math.max(0, ready.getValue() - started));
            }
        }
        return new Convergence(complete, readyAt.size(), last, latencies);
    }
}
