package dev.agentcore.transport;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.AgentStore;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Signals the lifecycle channels of a row the moment a build retires it, so that an idle agent
 * learns of the new build without sending anything; and the moment another agent process's chain
 * takes the row, so that the process it was taken from learns it is superseded. One subscription
 * to the store's changes serves every channel.
 */
final class RowFences implements Disposable {

    private final AgentStore store;
    private final Map<AgentId, Sinks.Empty<Void>> fences = new ConcurrentHashMap<>();
    /** Per row, the chains whose channels wait to hear that another process took the row. */
    private final Map<AgentId, Map<ChainId, Sinks.Empty<Void>>> holders = new ConcurrentHashMap<>();
    private final Disposable retirements;

    RowFences(AgentStore store) {
        this.store = store;
        this.retirements = store.changes().subscribe(row -> {
            if (!row.active()) {
                fire(row.id());
            } else if (row.lastChain() != null) {
                takeOver(row);
            }
        });
    }

    /**
     * Completes when a chain of another incarnation (another agent process) takes {@code agent}'s
     * row from {@code chain}; never completes otherwise. Cancelling it forgets the wait.
     */
    Mono<Void> takenFrom(AgentId agent, ChainId chain) {
        return Mono.defer(() -> {
            Sinks.Empty<Void> signal = Sinks.empty();
            holders.computeIfAbsent(agent, ignored -> new ConcurrentHashMap<>()).put(chain, signal);
            return signal.asMono().doFinally(ended -> holders.computeIfPresent(agent, (row, chains) -> {
                chains.remove(chain, signal);
                return chains.isEmpty() ? null : chains;
            }));
        });
    }

    private void takeOver(AgentRow row) {
        Map<ChainId, Sinks.Empty<Void>> chains = holders.get(row.id());
        if (chains == null) {
            return;
        }
        chains.forEach((chain, signal) -> {
            if (!chain.sameIncarnation(row.lastChain())) {
                // A second signal for the same wait finds it terminated: nothing to do.
                signal.tryEmitEmpty();
            }
        });
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
