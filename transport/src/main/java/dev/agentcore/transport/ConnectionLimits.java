package dev.agentcore.transport;

import java.time.Duration;

/**
 * What the control plane allows one peer and all of them together; set through
 * {@link ControlPlaneServer.Builder}, checked there, enforced by {@link ConnectionGate} and the
 * connection handler.
 */
record ConnectionLimits(
        int maxConnections,
        int maxUnauthenticated,
        int maxUnauthenticatedPerAddress,
        Duration setupTimeout,
        Duration minKeepAliveInterval,
        Duration maxKeepAliveInterval,
        Duration maxKeepAliveLifetime,
        int anonymousExchanges,
        Duration anonymousIdle,
        Duration anonymousLifetime,
        int maxStreamsPerConnection,
        int maxRequestsPerConnection) {

    static final ConnectionLimits DEFAULTS = new ConnectionLimits(10_000, 1_000, 64, Duration.ofSeconds(5),
            Duration.ofMillis(100), Duration.ofSeconds(60), Duration.ofSeconds(300),
            4, Duration.ofSeconds(10), Duration.ofSeconds(30), 64, 256);

    /** File descriptors kept back for everything that is not a connection (the store, logs, jars). */
    static final int RESERVED_FILE_DESCRIPTORS = 64;
    /** Refused connections that may linger at once (to read their refusal) beyond the total cap. */
    static final int MAX_LINGERING = 64;

    /**
     * These limits within an open-file limit: the total lowered to leave room for the process's
     * other files and for refused connections lingering (and the unauthenticated cap to a quarter of it), so that running out of file
     * descriptors refuses connections here instead of failing elsewhere. Unchanged when they fit.
     */
    ConnectionLimits within(long openFileLimit) {
        long room = openFileLimit - RESERVED_FILE_DESCRIPTORS - MAX_LINGERING;
        if (openFileLimit <= 0 || room >= maxConnections) {
            return this;
        }
        int total = (int) Math.max(16, room);
        int unauthenticated = Math.max(4, Math.min(maxUnauthenticated, total / 4));
        return new ConnectionLimits(total, unauthenticated, Math.min(maxUnauthenticatedPerAddress, unauthenticated),
                setupTimeout, minKeepAliveInterval, maxKeepAliveInterval, maxKeepAliveLifetime, anonymousExchanges,
                anonymousIdle, anonymousLifetime, maxStreamsPerConnection, maxRequestsPerConnection);
    }

    /** Whether a SETUP's keepalive values are within bounds; null if so, else what is wrong. */
    String keepAliveProblem(int intervalMillis, int maxLifetimeMillis) {
        if (intervalMillis < minKeepAliveInterval.toMillis() || intervalMillis > maxKeepAliveInterval.toMillis()) {
            return "keepalive interval " + intervalMillis + " ms is outside this control plane's bounds of "
                    + minKeepAliveInterval.toMillis() + " to " + maxKeepAliveInterval.toMillis() + " ms";
        }
        if (maxLifetimeMillis < intervalMillis || maxLifetimeMillis > maxKeepAliveLifetime.toMillis()) {
            return "keepalive max lifetime " + maxLifetimeMillis + " ms is outside this control plane's bounds of "
                    + "the interval (" + intervalMillis + " ms) to " + maxKeepAliveLifetime.toMillis() + " ms";
        }
        return null;
    }
}
