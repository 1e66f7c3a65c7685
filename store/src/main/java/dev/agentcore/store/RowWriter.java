package dev.agentcore.store;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.control.AgentRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The store's one writer. Callers hand it writes; it queues them (bounded: a full queue answers
 * RESOURCE_EXHAUSTED) and commits them one batch at a time, in one transaction each: the waiting
 * compare-and-sets, up to {@code maxBatch} and one per row; or the waiting builds (start or
 * stop), up to {@code maxBatch} and one per workspace; or the waiting credentials (the tokens an
 * identity exchange hands out), up to {@code maxBatch}: a crowd of agents exchanging at once
 * costs one commit per batch, not one per agent.
 *
 * <p>A write the writer has taken runs to its end whatever happens to its caller: a caller that
 * cancels only stops waiting. Every committed write is published (in commit order) before its
 * caller hears of it. {@link #close()} refuses new writes, then completes once every taken write
 * has ended. Nothing here blocks: the batches themselves are the {@link Batches}' business.
 */
final class RowWriter {

    /** A write request. */
    sealed interface Write permits CompareAndSet, BuildWrite, SaveToken {
    }

    /** Write {@code next} if the row is still at {@code expected}'s version. */
    record CompareAndSet(AgentRow expected, AgentRow next) implements Write {
    }

    /** A build write: it reads and writes the workspace's rows. */
    sealed interface BuildWrite extends Write permits StartBuild, StopBuild {
        String workspace();
    }

    /** Retire the workspace's active row and create the next one at CREATED. */
    record StartBuild(String workspace, Instant createdAt) implements BuildWrite {
    }

    /** Retire the workspace's active row. */
    record StopBuild(String workspace) implements BuildWrite {
    }

    /** Which credential a {@link SaveToken} records. */
    enum TokenKind {
        /** A session token (protocol v1), owned by one agent row. */
        SESSION,
        /** A connection token (protocol v2), owned by one workspace. */
        CONNECTION
    }

    /** Record a credential by its hash, owned by {@code owner} (the row's id, or the workspace's name). */
    record SaveToken(TokenKind kind, String tokenHash, String owner) implements Write {
    }

    /** How a store commits what the writer hands it. */
    interface Batches {
        /** Commits these compare-and-sets (of distinct rows) in one transaction; emits, per write, whether it wrote. */
        Mono<boolean[]> compareAndSets(List<CompareAndSet> batch);

        /**
         * Commits these builds (of distinct workspaces) in one transaction; emits, per build, the rows
         * it wrote, the new row (start) or the retired one (stop) last.
         */
        Mono<List<List<AgentRow>>> builds(List<BuildWrite> batch);

        /** Records these credentials (of distinct hashes) in one transaction; completes once committed. */
        Mono<Void> tokens(List<SaveToken> batch);
    }

    private record Pending(Write write, Sinks.One<Object> outcome) {
    }

    private static final Logger log = LoggerFactory.getLogger(RowWriter.class);

    /** The outcome of a stop that found no active row. */
    static final Object NOTHING = new Object();

    private final Batches batches;
    private final Consumer<List<AgentRow>> publish;
    private final int maxBatch;
    private final int maxQueued;
    private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicLongArray batchSizes;
    private volatile boolean closing;
    private final Sinks.Empty<Void> closed = Sinks.empty();
    /** A compare-and-set that did not fit the last batch (its row was in it already): first in the next. */
    private Pending carried;

    RowWriter(Batches batches, Consumer<List<AgentRow>> publish, int maxBatch, int maxQueued) {
        this.batches = batches;
        this.publish = publish;
        this.maxBatch = maxBatch;
        this.maxQueued = maxQueued;
        this.batchSizes = new AtomicLongArray(maxBatch + 1);
    }

    /** Queues a write; the Mono emits its outcome once committed (a Boolean, an AgentRow, or {@link #NOTHING}). */
    Mono<Object> submit(Write write) {
        return Mono.defer(() -> {
            if (closing) {
                return Mono.error(new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED,
                        "the control plane's store is closing and takes no more writes: retry, on another replica if any"));
            }
            if (queued.incrementAndGet() > maxQueued) {
                queued.decrementAndGet();
                return Mono.error(new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED,
                        "the control plane's store has " + maxQueued + " writes waiting: retry later"));
            }
            Pending pending = new Pending(write, Sinks.one());
            queue.offer(pending);
            drain();
            // The write is the writer's now: cancelling this Mono only stops waiting for it.
            return pending.outcome.asMono();
        });
    }

    /** Refuses new writes; completes once every write already taken has ended. */
    Mono<Void> close() {
        return Mono.defer(() -> {
            closing = true;
            drain();
            return closed.asMono();
        });
    }

    WriteStats stats() {
        long[] sizes = new long[batchSizes.length()];
        long batchCount = 0;
        long writes = 0;
        for (int size = 0; size < sizes.length; size++) {
            sizes[size] = batchSizes.get(size);
            batchCount += sizes[size];
            writes += sizes[size] * size;
        }
        return new WriteStats(batchCount, writes, sizes);
    }

    /** Starts the next batch unless one is running. Only the thread that sets {@code busy} takes from the queue. */
    private void drain() {
        while (busy.compareAndSet(false, true)) {
            List<Pending> batch = nextBatch();
            if (!batch.isEmpty()) {
                run(batch);
                return;
            }
            busy.set(false);
            if (queue.isEmpty()) {
                if (closing && queue.isEmpty() && !busy.get()) {
                    Sinks.EmitResult result = closed.tryEmitEmpty();
                    // A second emission (close called twice) finds it terminated, which is harmless.
                    if (result.isFailure() && result != Sinks.EmitResult.FAIL_TERMINATED) {
                        throw new IllegalStateException("could not signal that the writer closed: " + result);
                    }
                }
                return;
            }
        }
    }

    /**
     * The next writes in queue order, all of one kind, while each names a row (compare-and-set) or
     * a workspace (build) that the batch does not hold yet. Called only while {@code busy}.
     */
    private List<Pending> nextBatch() {
        List<Pending> batch = new ArrayList<>();
        Set<Object> keys = new HashSet<>();
        while (batch.size() < maxBatch) {
            Pending next = carried != null ? carried : queue.poll();
            carried = null;
            if (next == null) {
                break;
            }
            boolean sameKind = batch.isEmpty() || batch.get(0).write.getClass() == next.write.getClass()
                    || (batch.get(0).write instanceof BuildWrite && next.write instanceof BuildWrite);
            Object key = next.write instanceof CompareAndSet write ? write.expected().agentId()
                    : next.write instanceof SaveToken token ? token.tokenHash() : ((BuildWrite) next.write).workspace();
            if (!sameKind || !keys.add(key)) {
                carried = next; // two writes of one row (or workspace) never share a batch
                break;
            }
            batch.add(next);
        }
        queued.addAndGet(-batch.size());
        return batch;
    }

    private void run(List<Pending> batch) {
        Mono<List<AgentRow>> committed;
        if (batch.get(0).write instanceof CompareAndSet) {
            List<CompareAndSet> writes = batch.stream().map(pending -> (CompareAndSet) pending.write).toList();
            committed = batches.compareAndSets(writes).map(written -> {
                List<AgentRow> rows = new ArrayList<>();
                for (int i = 0; i < written.length; i++) {
                    if (written[i]) {
                        rows.add(writes.get(i).next());
                    }
                }
                publish.accept(rows);
                for (int i = 0; i < written.length; i++) {
                    emit(batch.get(i), written[i]);
                }
                return rows;
            });
        } else if (batch.get(0).write instanceof SaveToken) {
            List<SaveToken> writes = batch.stream().map(pending -> (SaveToken) pending.write).toList();
            committed = batches.tokens(writes).then(Mono.fromSupplier(() -> {
                for (Pending pending : batch) {
                    emit(pending, Boolean.TRUE);
                }
                return List.<AgentRow>of();
            }));
        } else {
            List<BuildWrite> writes = batch.stream().map(pending -> (BuildWrite) pending.write).toList();
            committed = batches.builds(writes).map(rowsPerBuild -> {
                List<AgentRow> rows = rowsPerBuild.stream().flatMap(List::stream).toList();
                publish.accept(rows);
                for (int i = 0; i < rowsPerBuild.size(); i++) {
                    List<AgentRow> written = rowsPerBuild.get(i);
                    emit(batch.get(i), written.isEmpty() ? NOTHING : written.get(written.size() - 1));
                }
                return rows;
            });
        }
        // The writer's own subscription: nobody outside can cancel it.
        committed.subscribe(
                rows -> batchSizes.incrementAndGet(batch.size()),
                error -> ended(batch, error),
                () -> ended(batch, null));
    }

    private void ended(List<Pending> batch, Throwable error) {
        if (error != null) {
            log.warn("a batch of {} writes failed, each answered with the error: {}", batch.size(), error.toString());
            for (Pending pending : batch) {
                emitError(pending, error);
            }
        }
        busy.set(false);
        drain();
    }

    private static void emit(Pending pending, Object outcome) {
        // FAIL_ZERO_SUBSCRIBER cannot happen to a Sinks.One; a caller that left makes no difference.
        Sinks.EmitResult result = pending.outcome.tryEmitValue(outcome);
        if (result.isFailure() && result != Sinks.EmitResult.FAIL_TERMINATED) {
            throw new IllegalStateException("could not hand a write's outcome to its caller: " + result);
        }
    }

    private static void emitError(Pending pending, Throwable error) {
        Sinks.EmitResult result = pending.outcome.tryEmitError(error);
        // FAIL_TERMINATED: the outcome was handed over before the batch failed later on; it stands.
        if (result.isFailure() && result != Sinks.EmitResult.FAIL_TERMINATED) {
            throw new IllegalStateException("could not hand a write's failure to its caller: " + result, error);
        }
    }
}
