package dev.agentcore.test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import reactor.core.scheduler.Scheduler;

/**
 * A {@link Clock} that reads a {@link Scheduler}'s time, from a start instant: on a
 * {@link reactor.test.scheduler.VirtualTimeScheduler} it moves only when virtual time does, so the
 * times a lifecycle records and the delays a runtime schedules stay in step.
 *
 * <pre>{@code
 * VirtualTimeScheduler scheduler = VirtualTimeScheduler.create();
 * Clock clock = SchedulerClock.of(scheduler, Instant.parse("2026-01-01T10:00:00Z"));
 * scheduler.advanceTimeBy(Duration.ofSeconds(3));   // clock.instant() is now 10:00:03
 * }</pre>
 */
public final class SchedulerClock extends Clock {

    private final Scheduler scheduler;
    private final Instant start;
    private final long startNanos;

    private SchedulerClock(Scheduler scheduler, Instant start) {
        this.scheduler = scheduler;
        this.start = start;
        this.startNanos = scheduler.now(TimeUnit.NANOSECONDS);
    }

    /** A clock that reads {@code start} now and moves as {@code scheduler}'s time moves from now on. */
    public static SchedulerClock of(Scheduler scheduler, Instant start) {
        return new SchedulerClock(Objects.requireNonNull(scheduler, "scheduler"), Objects.requireNonNull(start, "start"));
    }

    @Override
    public Instant instant() {
        return start.plusNanos(scheduler.now(TimeUnit.NANOSECONDS) - startNanos);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        if (ZoneOffset.UTC.equals(zone)) {
            return this;
        }
        throw new UnsupportedOperationException("a SchedulerClock stays in UTC; convert the instants it gives instead");
    }

    @Override
    public String toString() {
        return "SchedulerClock[" + instant() + " on " + scheduler + "]";
    }
}
