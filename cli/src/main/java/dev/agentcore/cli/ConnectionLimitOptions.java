package dev.agentcore.cli;

import dev.agentcore.transport.ControlPlaneServer;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The control plane's limits on connections: what keeps peers that never authenticate from locking others out. */
final class ConnectionLimitOptions {

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "10000",
            description = "Connections in total; lowered at start to fit the open-file limit. Default: ${DEFAULT-VALUE}.")
    int maxConnections;

    @Option(names = "--max-unauthenticated", paramLabel = "N", defaultValue = "1000",
            description = {"Connections without a valid token yet (before SETUP, or token-less) in total; the rest of "
                    + "--max-connections is kept for authenticated ones. Past it the oldest such connection is closed "
                    + "for the new one. Default: ${DEFAULT-VALUE}."})
    int maxUnauthenticated;

    @Option(names = "--max-unauthenticated-per-address", paramLabel = "N", defaultValue = "64",
            description = "Connections without a valid token yet from one source address; past it a new one is "
                    + "refused (RESOURCE_EXHAUSTED). Default: ${DEFAULT-VALUE}.")
    int maxUnauthenticatedPerAddress;

    @Option(names = "--setup-timeout", paramLabel = "DURATION", defaultValue = "5s",
            description = "A new connection that sends no SETUP within this is closed. Default: ${DEFAULT-VALUE}.")
    Duration setupTimeout;

    @Option(names = "--keepalive-interval-min", paramLabel = "DURATION", defaultValue = "100ms",
            description = "The shortest keepalive interval a SETUP may ask for. Default: ${DEFAULT-VALUE}.")
    Duration minKeepAliveInterval;

    @Option(names = "--keepalive-interval-max", paramLabel = "DURATION", defaultValue = "60s",
            description = "The longest keepalive interval a SETUP may ask for. Default: ${DEFAULT-VALUE}.")
    Duration maxKeepAliveInterval;

    @Option(names = "--keepalive-lifetime-max", paramLabel = "DURATION", defaultValue = "300s",
            description = "The longest keepalive max lifetime a SETUP may ask for. Default: ${DEFAULT-VALUE}.")
    Duration maxKeepAliveLifetime;

    @Option(names = "--anonymous-exchanges", paramLabel = "N", defaultValue = "4",
            description = "Identity exchanges one token-less connection may make. Default: ${DEFAULT-VALUE}.")
    int anonymousExchanges;

    @Option(names = "--anonymous-idle", paramLabel = "DURATION", defaultValue = "10s",
            description = "A token-less connection without a request for this long is closed. Default: ${DEFAULT-VALUE}.")
    Duration anonymousIdle;

    @Option(names = "--anonymous-lifetime", paramLabel = "DURATION", defaultValue = "30s",
            description = "A token-less connection is closed after this long. Default: ${DEFAULT-VALUE}.")
    Duration anonymousLifetime;

    @Option(names = "--max-streams-per-connection", paramLabel = "N", defaultValue = "64",
            description = "Streams and channels open at once on one connection. Default: ${DEFAULT-VALUE}.")
    int maxStreamsPerConnection;

    @Option(names = "--max-requests-per-connection", paramLabel = "N", defaultValue = "256",
            description = "Requests in flight at once on one connection. Default: ${DEFAULT-VALUE}.")
    int maxRequestsPerConnection;

    /** Sets these limits on the builder; a value it refuses is a usage error naming the option's field. */
    ControlPlaneServer.Builder applyTo(ControlPlaneServer.Builder builder) {
        try {
            return builder.connectionLimits(maxConnections, maxUnauthenticated, maxUnauthenticatedPerAddress)
                    .setupTimeout(setupTimeout)
                    .keepAliveBounds(minKeepAliveInterval, maxKeepAliveInterval, maxKeepAliveLifetime)
                    .anonymousLimits(anonymousExchanges, anonymousIdle, anonymousLifetime)
                    .streamLimits(maxStreamsPerConnection, maxRequestsPerConnection);
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(e.getMessage(), ExitCodes.USAGE);
        }
    }
}
