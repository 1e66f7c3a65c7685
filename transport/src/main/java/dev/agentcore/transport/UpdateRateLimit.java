package dev.agentcore.transport;

import java.time.Clock;

/**
 * A token bucket for one lifecycle channel: {@code burst} updates at once, refilled at
 * {@code perSecond}. Used from the channel's serialized pipeline only.
 */
final class UpdateRateLimit {

    private final Clock clock;
    private final double perNano;
    private final double burst;
    private double tokens;
    private long lastNanos;

    UpdateRateLimit(Clock clock, int perSecond, int burst) {
        this.clock = clock;
        this.perNano = perSecond / 1_000_000_000.0;
        this.burst = burst;
        this.tokens = burst;
        this.lastNanos = nanos();
    }

    boolean tryAcquire() {
        long now = nanos();
        tokens = Math.min(burst, tokens + (now - lastNanos) * perNano);
        lastNanos = now;
        if (tokens < 1) {
            return false;
        }
        tokens -= 1;
        return true;
    }

    private long nanos() {
        var instant = clock.instant();
        return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
    }
}
