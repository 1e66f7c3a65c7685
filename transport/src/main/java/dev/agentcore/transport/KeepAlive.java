package dev.agentcore.transport;

import java.time.Duration;
import java.util.Objects;

/**
 * RSocket keepalive as a client asks for it in SETUP: a KEEPALIVE frame every {@code interval};
 * a control plane silent for {@code maxLifetime} is taken for dead and the connection closed.
 *
 * @param interval how often to send a keepalive; at least 1 ms
 * @param maxLifetime how long a silent peer is given; longer than {@code interval}
 */
public record KeepAlive(Duration interval, Duration maxLifetime) {

    /** SETUP carries both as 32-bit milliseconds (declared first: DEFAULT's checks read it). */
    private static final Duration MOST = Duration.ofMillis(Integer.MAX_VALUE);

    /** A frame every 5 s; dead after 15 s of silence. */
    public static final KeepAlive DEFAULT = new KeepAlive(Duration.ofSeconds(5), Duration.ofSeconds(15));

    public KeepAlive {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(maxLifetime, "maxLifetime");
        if (interval.toMillis() < 1 || interval.compareTo(MOST) > 0) {
            throw new IllegalArgumentException("interval: must be from 1 ms to " + MOST.toMillis() + " ms, was " + interval);
        }
        if (maxLifetime.compareTo(interval) <= 0 || maxLifetime.compareTo(MOST) > 0) {
            throw new IllegalArgumentException("maxLifetime: must be longer than interval (" + interval + ") and at most "
                    + MOST.toMillis() + " ms, was " + maxLifetime);
        }
    }
}
