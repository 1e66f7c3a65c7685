package dev.agentcore.transport;

import java.util.function.LongSupplier;

/**
 * A token bucket for one lifecycle channel: {@code burst} updates at once, refilled at
 * {@code perSecond}. Time comes from a monotonic source ({@code System::nanoTime} in the server):
 * a wall clock stepped back would otherwise drain the bucket for as long as it was stepped.
 * Used from the channel's serialized pipeline only.
 */
final class UpdateRateLimit {

    private final LongSupplier nanoTime;
    private final double perNano;
    private final double burst;
    private double tokens;
    private long lastNanos;

    UpdateRateLimit(LongSupplier nanoTime, int perSecond, int burst) {
        this.nanoTime = nanoTime;
        this.perNano = perSecond / 1_000_000_000.0;
        this.burst = burst;
        this.tokens = burst;
        this.lastNanos = nanoTime.getAsLong();
    }

    boolean tryAcquire() {
        long now = nanoTime.getAsLong();
        tokens = Math.min(burst, tokens + (now - lastNanos) * perNano);
        lastNanos = now;
        if (tokens < 1) {
            return false;
        }
        tokens -= 1;
        return true;
    }
}
