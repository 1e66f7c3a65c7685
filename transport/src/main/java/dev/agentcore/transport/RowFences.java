package dev.agentcore.transport;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.AgentStore;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Signals the lifecycle channels of a row the moment a build retires it, so that an idle agent
 * learns of the new build without sending anything. One subscription to the store's changes
 * serves every channel.
 */
final class RowFences implements Disposable {

    private final AgentStore store;
    private final Map<AgentId, Sinks.Empty<Void>> fences = new ConcurrentHashMap<>();
    private final Disposable retirements;

    RowFences(AgentStore store) {
        this.store = store;
        this.retirements = store.changes().filter(row -> !row.active()).subscribe(row -> fire(row.id()));
    }

    /** Completes when {@code agent}'s row is retired, or at once if it already is (or does not exist). */
    Mono<Void> retired(AgentId agent) {
        Mono<Void> signal = fences.computeIfAbsent(agent, ignored -> Sinks.empty()).asMono();
        // Registered first, then checked: a retirement between the two is seen by one or the other.
        Mono<Void> alreadyRetired = store.findRow(agent).filter(AgentRow::active).hasElement()
                .flatMap(active -> active ? Mono.<Void>never() : Mono.<Void>empty());
        return Mono.firstWithSignal(signal, alreadyRetired);
    }

    private void fire(AgentId agent) {
        Sinks.Empty<Void> fence = fences.remove(agent);
        if (fence != null) {
            fence.tryEmitEmpty();
        }
    }

    @Override
    public void dispose() {
        retirements.dispose();
    }

    @Override
    public boolean isDisposed() {
        return retirements.isDisposed();
    }
}
