package dev.agentcore.transport;

import java.net.InetAddress;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Limits failed identity exchanges per source address, so that instance identities cannot be
 * guessed at line rate: each source may fail {@code burst} times, then once per
 * {@code 1 / perSecond} seconds; past that, every exchange from it is refused until its budget
 * refills. Successful exchanges cost nothing, so agents behind one address are never slowed.
 */
final class ExchangeGuard {

    private static final int MAX_TRACKED_SOURCES = 100_000;

    private final Clock clock;
    private final double perSecond;
    private final double burst;
    private final Map<InetAddress, double[]> budgets = new ConcurrentHashMap<>();

    ExchangeGuard(Clock clock, double perSecond, int burst) {
        this.clock = clock;
        this.perSecond = perSecond;
        this.burst = burst;
    }

    /** Whether {@code source} may try an exchange now. */
    boolean allows(InetAddress source) {
        double[] budget = budgets.get(source);
        if (budget == null) {
            return true;
        }
        synchronized (budget) {
            refill(budget);
            return budget[0] >= 1;
        }
    }

    /** Records a failed exchange from {@code source}. */
    void failed(InetAddress source) {
        if (budgets.size() >= MAX_TRACKED_SOURCES) {
            // Forget sources whose budget is full again; they would be allowed anyway.
            budgets.entrySet().removeIf(entry -> {
                synchronized (entry.getValue()) {
                    refill(entry.getValue());
                    return entry.getValue()[0] >= burst;
                }
            });
        }
        double[] budget = budgets.computeIfAbsent(source, ignored -> new double[] {burst, now()});
        synchronized (budget) {
            refill(budget);
            budget[0] = Math.max(0, budget[0] - 1);
        }
    }

    /** budget[0] is what is left, budget[1] when it was last refilled (seconds). */
    private void refill(double[] budget) {
        double now = now();
        budget[0] = Math.min(burst, budget[0] + (now - budget[1]) * perSecond);
        budget[1] = now;
    }

    private double now() {
        return clock.millis() / 1000.0;
    }
}
