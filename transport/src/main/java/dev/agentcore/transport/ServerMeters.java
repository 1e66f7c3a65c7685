package dev.agentcore.transport;

import dev.agentcore.core.AgentId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The control plane's meters of its agents' traffic: lifecycle channels open (in all, and per
 * row, for who asks which rows have an agent reporting), channels ended by a fence or a takeover,
 * identity exchanges by outcome. (Connections are metered by the gate, updates by the lifecycle
 * service.)
 */
final class ServerMeters {

    private final AtomicInteger channelsOpen = new AtomicInteger();
    private final Map<AgentId, Integer> channelsByRow = new ConcurrentHashMap<>();
    private final Counter fenced;
    private final Counter superseded;
    private final Counter exchangesGranted;
    private final Counter exchangesRefused;
    private final Counter exchangesLimited;

    ServerMeters(MeterRegistry meters) {
        Gauge.builder("agentcore.channels.open", channelsOpen, AtomicInteger::get)
                .description("Lifecycle channels open, each bound to one agent row").register(meters);
        fenced = ended(meters, "fenced");
        superseded = ended(meters, "superseded");
        exchangesGranted = exchanges(meters, "granted");
        exchangesRefused = exchanges(meters, "refused");
        exchangesLimited = exchanges(meters, "limited");
    }

    private static Counter ended(MeterRegistry meters, String reason) {
        return Counter.builder("agentcore.channels.ended").tag("reason", reason)
                .description("Lifecycle channels ended by the control plane: fenced (a build retired the row) "
                        + "or superseded (another agent process took the row)")
                .register(meters);
    }

    private static Counter exchanges(MeterRegistry meters, String outcome) {
        return Counter.builder("agentcore.exchanges").tag("outcome", outcome)
                .description("Identity exchanges: granted, refused (an identity that names no workspace) "
                        + "or limited (over a connection's or an address's budget)")
                .register(meters);
    }

    void channelOpened(AgentId row) {
        channelsByRow.merge(row, 1, Integer::sum);
        channelsOpen.incrementAndGet();
    }

    void channelClosed(AgentId row) {
        channelsByRow.computeIfPresent(row, (ignored, open) -> open == 1 ? null : open - 1);
        channelsOpen.decrementAndGet();
    }

    /** How many lifecycle channels are open on {@code row} now. */
    int channelsOpen(AgentId row) {
        return channelsByRow.getOrDefault(row, 0);
    }

    void fenced() {
        fenced.increment();
    }

    void superseded() {
        superseded.increment();
    }

    void exchangeGranted() {
        exchangesGranted.increment();
    }

    void exchangeRefused() {
        exchangesRefused.increment();
    }

    void exchangeLimited() {
        exchangesLimited.increment();
    }
}
