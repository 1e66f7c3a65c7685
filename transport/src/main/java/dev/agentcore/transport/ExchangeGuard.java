package dev.agentcore.transport;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.net.InetAddress;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Limits failed identity exchanges per source address, so that instance identities cannot be
 * guessed at line rate: each source may fail {@code burst} times, then once per
 * {@code 1 / perSecond} seconds; past that, every exchange from it is refused until its budget
 * refills. Successful exchanges cost nothing, so agents behind one address are never slowed.
 *
 * <p>It tracks at most {@code maxSources} sources, in a bounded table where each failure costs
 * the same however many sources it holds: a host that fails from a million addresses cannot grow
 * it, and a source forgotten early only gets the budget it would get once refilled. A source
 * whose budget has refilled is forgotten; time is read from a monotonic source, so a wall clock
 * set back never locks a source out.
 */
final class ExchangeGuard {

    /** How many sources are tracked at most by default. */
    static final int MAX_TRACKED_SOURCES = 100_000;

    private final LongSupplier nanoTime;
    private final double perNano;
    private final double burst;
    private final Cache<InetAddress, Budget> budgets;

    ExchangeGuard(LongSupplier nanoTime, double perSecond, int burst) {
        this(nanoTime, perSecond, burst, MAX_TRACKED_SOURCES);
    }

    ExchangeGuard(LongSupplier nanoTime, double perSecond, int burst, int maxSources) {
        this.nanoTime = nanoTime;
        this.perNano = perSecond / 1e9;
        this.burst = burst;
        this.budgets = Caffeine.newBuilder()
                .maximumSize(maxSources)
                // After this long without a failure a budget is full again: forgetting it changes nothing.
                .expireAfterWrite(Duration.ofNanos((long) Math.ceil(burst / perNano)))
                .ticker(nanoTime::getAsLong)
                // Evictions run on the failing caller's thread, a few at a time, instead of a pool of their own.
                .executor(Runnable::run)
                .build();
    }

    /** Whether {@code source} may try an exchange now. */
    boolean allows(InetAddress source) {
        Budget budget = budgets.getIfPresent(source);
        return budget == null || budget.left(nanoTime.getAsLong()) >= 1;
    }

    /** Records a failed exchange from {@code source}. */
    void failed(InetAddress source) {
        long now = nanoTime.getAsLong();
        budgets.asMap().compute(source, (ignored, budget) -> {
            Budget spent = budget == null ? new Budget(burst, now) : budget;
            spent.spend(now);
            return spent;
        });
    }

    /** How many sources are tracked now (for tests: the table stays bounded). */
    long trackedSources() {
        budgets.cleanUp();
        return budgets.estimatedSize();
    }

    /** One source's budget: what is left, and when it was last refilled. */
    private final class Budget {
        private double left;
        private long refilledAt;

        Budget(double left, long now) {
            this.left = left;
            this.refilledAt = now;
        }

        synchronized double left(long now) {
            refill(now);
            return left;
        }

        synchronized void spend(long now) {
            refill(now);
            left = Math.max(0, left - 1);
        }

        private void refill(long now) {
            left = Math.min(burst, left + Math.max(0, now - refilledAt) * perNano);
            refilledAt = now;
        }
    }
}
