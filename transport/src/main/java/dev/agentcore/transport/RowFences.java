package dev.agentcore.transport;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.LifecycleService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.concurrent.Queues;

/**
 * Signals the lifecycle channels of a row the moment a build retires it, so that an idle agent
 * learns of the new build without sending anything; and the moment another agent process's chain
 * takes the row, so that the process it was taken from learns it is superseded. One subscription
 * to the store's changes serves every channel.
 */
final class RowFences implements Disposable {

    private static final Logger log = LoggerFactory.getLogger(RowFences.class);

    private final LifecycleService lifecycle;
    private final Map<AgentId, Sinks.Empty<Void>> fences = new ConcurrentHashMap<>();
    // The waits of one row or workspace are few (one channel, one manifests stream): small immutable
    // lists, replaced under the map's per-key lock, not a map per key (a few hundred bytes per agent).
    /** Per row, the chains whose channels wait to hear that another process took the row. */
    private final Map<AgentId, List<ChainWait>> holders = new ConcurrentHashMap<>();
    /** Per workspace, the manifests streams waiting for its next build's row. */
    private final Map<String, List<BuildWaiter>> builds = new ConcurrentHashMap<>();
    private final Disposable retirements;

    RowFences(LifecycleService lifecycle) {
        this.lifecycle = lifecycle;
        this.retirements = lifecycle.changes().subscribe(row -> {
            if (!row.active()) {
                fire(row.agentId());
                return;
            }
            announce(row);
            if (row.lastChain() != null) {
                takeOver(row);
            }
        });
    }

    /**
     * Completes when a chain of another incarnation (another agent process) takes {@code agentId}'s
     * row from {@code chain}; never completes otherwise. Cancelling it forgets the wait.
     */
    Mono<Void> takenFrom(AgentId agentId, ChainId chain) {
        return Mono.defer(() -> {
            ChainWait wait = new ChainWait(chain, Sinks.empty());
            holders.merge(agentId, List.of(wait), RowFences::joined);
            return wait.signal().asMono().doFinally(ended -> holders.computeIfPresent(agentId,
                    (row, waits) -> without(waits, wait)));
        });
    }

    /**
     * The active rows of {@code workspace} whose build is later than any seen since subscribing:
     * each new build's row, once (the first change seen counts as new). Cancelling it forgets the wait.
     */
    Flux<AgentRow> newBuilds(String workspace) {
        return Flux.defer(() -> {
            BuildWaiter waiter = new BuildWaiter();
            builds.merge(workspace, List.of(waiter), RowFences::joined);
            return waiter.rows.asFlux().doFinally(ended -> builds.computeIfPresent(workspace,
                    (name, waiting) -> without(waiting, waiter)));
        });
    }

    private void announce(AgentRow row) {
        List<BuildWaiter> waiting = builds.get(row.workspace());
        if (waiting != null) {
            waiting.forEach(waiter -> waiter.offer(row));
        }
    }

    private static <T> List<T> joined(List<T> waits, List<T> more) {
        List<T> all = new ArrayList<>(waits);
        all.addAll(more);
        return List.copyOf(all);
    }

    /** The waits but this one (compared by identity); null, which removes the key, once none is left. */
    private static <T> List<T> without(List<T> waits, T ended) {
        List<T> left = new ArrayList<>(waits.size());
        for (T wait : waits) {
            if (wait != ended) {
                left.add(wait);
            }
        }
        return left.isEmpty() ? null : List.copyOf(left);
    }

    /** A channel's wait to hear that another process's chain took its row from {@code chain}. */
    private record ChainWait(ChainId chain, Sinks.Empty<Void> signal) {
    }

    /**
     * One manifests stream's wait. Only the store's changes subscriber calls {@link #offer}, one
     * row at a time, so the last build is written by one thread; the buffer holds one row per build.
     */
    private static final class BuildWaiter {
        // Unbounded, in links of eight: the default link of 256 slots was a kilobyte per connected agent,
        // for builds that come one at a time.
        final Sinks.Many<AgentRow> rows = Sinks.many().unicast().onBackpressureBuffer(Queues.<AgentRow>unbounded(8).get());
        private long lastBuild;

        void offer(AgentRow row) {
            if (row.buildNumber() <= lastBuild) {
                return;
            }
            lastBuild = row.buildNumber();
            Sinks.EmitResult result = rows.tryEmitNext(row);
            if (result.isFailure() && result != Sinks.EmitResult.FAIL_CANCELLED
                    && result != Sinks.EmitResult.FAIL_TERMINATED) {
                // Unbounded and fed by one thread, the sink should only fail because its stream ended.
                log.warn("could not announce build {} of workspace {}: {}", row.buildNumber(), row.workspace(), result);
            }
        }
    }

    private void takeOver(AgentRow row) {
        List<ChainWait> waits = holders.get(row.agentId());
        if (waits == null) {
            return;
        }
        for (ChainWait wait : waits) {
            if (!wait.chain().sameIncarnation(row.lastChain())) {
                signalled(wait.signal().tryEmitEmpty(), "a takeover of row " + row.agentId());
            }
        }
    }

    /** Completes when {@code agentId}'s row is retired, or at once if it already is (or does not exist). */
    Mono<Void> retired(AgentId agentId) {
        Mono<Void> signal = fences.computeIfAbsent(agentId, ignored -> Sinks.empty()).asMono();
        // Registered first, then checked: a retirement between the two is seen by one or the other
        // (the signal, once fired, completes whoever subscribes later). The recent picture will do: a
        // store updates it before it publishes the change that fires the fence, and one that lags
        // another replica's retirement gets that change later.
        return lifecycle.recentRow(agentId).filter(AgentRow::active).hasElement()
                // flatMap would hold the read's chain for as long as the row stays active.
                .onTerminateDetach()
                .flatMap(active -> active ? signal : Mono.<Void>empty());
    }

    private void fire(AgentId agentId) {
        Sinks.Empty<Void> fence = fences.remove(agentId);
        if (fence != null) {
            signalled(fence.tryEmitEmpty(), "the retirement of row " + agentId);
        }
    }

    /** A second signal for the same wait finds it terminated: nothing to do. Anything else is logged. */
    private static void signalled(Sinks.EmitResult result, String what) {
        if (result.isFailure() && result != Sinks.EmitResult.FAIL_TERMINATED) {
            log.warn("could not signal {}: {}", what, result);
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
