package dev.agentcore.core.agent;

import java.time.Duration;
import java.util.Objects;
import java.util.Random;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Full-jitter exponential backoff between connection attempts: after {@code n} failures in a row
 * the pause is a random duration up to {@code initial * 2^n}, capped at {@code max}.
 *
 * @param initial the bound of the first pause; positive
 * @param max the cap of every pause; at least {@code initial}
 */
public record Backoff(Duration initial, Duration max) {

    /** 100 ms, doubling per failure, capped at 10 s. */
    public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10));

    public Backoff {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(max, "max");
        if (initial.toMillis() < 1) {
            throw new IllegalArgumentException("initial: must be at least 1 ms, was " + initial);
        }
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("max: must be at least initial (" + initial + "), was " + max);
        }
    }

    /** The longest pause after {@code failures} failures in a row: {@code min(max, initial * 2^failures)}. */
    public Duration bound(int failures) {
        if (failures < 0) {
            throw new IllegalArgumentException("failures: must not be negative, was " + failures);
        }
        long cap = max.toMillis();
        long bound = initial.toMillis();
        for (int doubled = 0; doubled < failures && bound < cap; doubled++) {
            bound = bound > cap / 2 ? cap : bound * 2;
        }
        return Duration.ofMillis(Math.min(bound, cap));
    }

    /** A pause drawn uniformly from zero to {@link #bound(int)}, whole milliseconds. */
    public Duration delay(int failures, Random random) {
        return Duration.ofMillis((long) (random.nextDouble() * bound(failures).toMillis()));
    }

    /**
     * Emits the delay it drew, once that delay has passed on {@code scheduler}: a value, so that it
     * can drive {@code repeatWhen} and {@code retryWhen}. Each subscription draws its own.
     */
    public Mono<Duration> pause(int failures, Random random, Scheduler scheduler) {
        return Mono.defer(() -> {
            Duration delay = delay(failures, random);
            return Mono.delay(delay, scheduler).thenReturn(delay);
        });
    }
}
