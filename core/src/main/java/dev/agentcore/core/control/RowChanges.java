package dev.agentcore.core.control;

import dev.agentcore.core.internal.OrderedSink;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * For {@link AgentStore} implementations: the feed behind {@link AgentStore#changes()}, which
 * publishes committed rows in the order the store noted them, from any thread, and never while
 * the store holds the lock that orders its writes.
 */
public final class RowChanges {

    private final OrderedSink<AgentRow> rows = new OrderedSink<>(Sinks.many().multicast().directBestEffort());

    /** A feed with no rows noted yet. */
    public RowChanges() {
    }

    /** Notes a committed row; call it while holding whatever orders the store's writes. */
    public void committed(AgentRow row) {
        rows.offer(row);
    }

    /** Publishes every row noted so far, in order; call it after releasing that lock. */
    public void publish() {
        rows.drain();
    }

    /** The rows published from subscription on, buffered for each subscriber. */
    public Flux<AgentRow> asFlux() {
        return rows.asFlux().onBackpressureBuffer();
    }
}
