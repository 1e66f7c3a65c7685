package dev.agentcore.bench;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AgentRow;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Follows the control plane's row changes (the admin changes stream) and notes, per workspace,
 * when a row of the awaited build first became READY: the storm's clock, as the control plane
 * sees it. One awaited build at a time.
 */
final class RowTracker implements AutoCloseable {

    /** What one awaited build came to. */
    record Convergence(boolean complete, int ready, long lastReadyNanos, Histogram latencyNanos) {
    }

    private final Disposable subscription;
    private volatile Awaited awaited;

    private static final class Awaited {
        final long build;
        final int expected;
        final Map<String, Long> startedAt;
        final Map<String, Long> readyAt = new ConcurrentHashMap<>();
        final CompletableFuture<Long> all = new CompletableFuture<>();

        Awaited(long build, int expected, Map<String, Long> startedAt) {
            this.build = build;
            this.expected = expected;
            this.startedAt = startedAt;
        }
    }

    RowTracker(Flux<AgentRow> changes) {
        this.subscription = changes.subscribe(this::on, error -> {
            Awaited current = awaited;
            if (current != null) {
                current.all.completeExceptionally(error);
            }
        });
    }

    /**
     * Starts awaiting {@code build} READY in {@code expected} workspaces; {@code startedAt} holds the
     * nanoTime each workspace's build was asked for, filled in by the caller as it asks.
     */
    void await(long build, int expected, Map<String, Long> startedAt) {
        awaited = new Awaited(build, expected, startedAt);
    }

    private void on(AgentRow row) {
        Awaited current = awaited;
        if (current == null || row.buildNumber() != current.build || row.state() != LifecycleState.READY) {
            return;
        }
        long now = System.nanoTime();
        if (current.readyAt.putIfAbsent(row.workspace(), now) == null && current.readyAt.size() == current.expected) {
            current.all.complete(now);
        }
    }

    /** Waits up to {@code timeout} for every awaited workspace to be READY. */
    Convergence result(Duration timeout) throws InterruptedException {
        Awaited current = awaited;
        boolean complete;
        try {
            current.all.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            complete = current.readyAt.size() >= current.expected;
        } catch (TimeoutException | ExecutionException e) {
            complete = false;
        }
        Histogram latencies = new Histogram(3);
        long last = 0;
        for (Map.Entry<String, Long> ready : current.readyAt.entrySet()) {
            Long started = current.startedAt.get(ready.getKey());
            last = Math.max(last, ready.getValue());
            if (started != null) {
                latencies.recordValue(Math.max(0, ready.getValue() - started));
            }
        }
        return new Convergence(complete, current.readyAt.size(), last, latencies);
    }

    @Override
    public void close() {
        subscription.dispose();
    }
}
