package dev.agentcore.transport;

import io.rsocket.Payload;
import java.time.Clock;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;
import reactor.core.publisher.Flux;

/**
 * What the control plane's builder fixed for serving connections, read by every route handler:
 * its clock (for the times it reports), its monotonic time source (for rate limits), the payload limit, the per-session update rate, and the admin channel routes an
 * embedding program added.
 */
record ServerSettings(Clock clock, LongSupplier nanoTime, int maxPayloadBytes, int updatesPerSecond, int updateBurst,
                      Map<String, Function<Flux<Payload>, Flux<Payload>>> adminChannelRoutes) {

    ServerSettings {
        adminChannelRoutes = Map.copyOf(adminChannelRoutes);
    }
}
