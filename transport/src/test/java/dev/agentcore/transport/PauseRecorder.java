package dev.agentcore.transport;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * A connector's scheduler for tests: runs everything on {@code time} (a virtual-time scheduler)
 * and notes each delayed task, which for a connector is a backoff pause, so that a test can wait
 * until the connector has started its pause before it moves virtual time.
 */
final class PauseRecorder implements Scheduler {

    private final Scheduler time;
    // Noted on the connector's event loops: LinkedTransferQueue's add never takes a lock, where
    // LinkedBlockingQueue's waits for the takers' lock a waiting reader may hold (BlockHound fails
    // the event loop for that park; PauseRecorderTest).
    private final BlockingQueue<Duration> pauses = new LinkedTransferQueue<>();

    PauseRecorder(Scheduler time) {
        this.time = time;
    }

    /** The next pause the connector started, waiting for it in real time up to {@code timeout}. */
    Duration next(Duration timeout) {
        try {
            Duration pause = pauses.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (pause == null) {
                throw new AssertionError("the connector started no pause within " + timeout);
            }
            return pause;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Whether no pause was started (or none that {@link #next} has not returned). */
    boolean none() {
        return pauses.isEmpty();
    }

    @Override
    public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
        // Scheduled first, noted after: a test that sees the pause may move time at once.
        Disposable scheduled = time.schedule(task, delay, unit);
        pauses.add(Duration.ofNanos(unit.toNanos(delay)));
        return scheduled;
    }

    @Override
    public Disposable schedule(Runnable task) {
        return time.schedule(task);
    }

    @Override
    public Disposable schedulePeriodically(Runnable task, long initialDelay, long period, TimeUnit unit) {
        return time.schedulePeriodically(task, initialDelay, period, unit);
    }

    @Override
    public long now(TimeUnit unit) {
        return time.now(unit);
    }

    @Override
    public Worker createWorker() {
        return time.createWorker();
    }
}
