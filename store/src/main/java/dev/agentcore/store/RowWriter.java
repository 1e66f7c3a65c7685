package dev.agentcore.store;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.control.AgentRow;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The store's one writer. Callers hand it writes; it queues them (bounded: a full queue answers
 * RESOURCE_EXHAUSTED) and commits them one batch at a time, in one transaction each. A batch holds
 * writes of one kind, up to {@code maxBatch} and one per workspace (or credential): the waiting
 * compare-and-sets, or the waiting builds (start or stop), or the waiting credentials (the tokens
 * an identity exchange hands out), or the waiting forgettings of a workspace's credentials. It gathers them across the queue, so writes of other kinds in
 * between do not cut it short, but no write passes an older one of its workspace: a crowd of
 * agents costs one commit per batch, not one per agent, and each workspace sees its writes in the
 * order they came.
 *
 * <p>A write the writer has taken runs to its end whatever happens to its caller: a caller that
 * cancels only stops waiting. Every committed write is published (in commit order) before its
 * caller hears of it. Publishing a batch's rows and answering its callers is a lane of its own,
 * in commit order, while the next batch commits: at a 10,000-agent build boundary on H2 they
 * took longer than the commits, and ran in between them. {@link #close()} refuses new writes,
 * then completes once every taken write has ended and been answered. Nothing here blocks: the
 * batches themselves are the {@link Batches}' business.
 */
final class RowWriter {

    /** A write request. */
    sealed interface Write permits CompareAndSet, BuildWrite, SaveToken, ForgetCredentials {
    }

    /** Write {@code next} if the row is still at {@code expected}'s version. */
    record CompareAndSet(AgentRow expected, AgentRow next) implements Write {
    }

    /** A build write: it reads and writes the workspace's rows. */
    sealed interface BuildWrite extends Write permits StartBuild, StopBuild {
        String workspace();
    }

    /** Retire the workspace's active row and create the next one at CREATED. */
    record StartBuild(String workspace, long scriptsRevision, Instant createdAt) implements BuildWrite {
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

    /** Forget every credential of the workspace: its connection tokens and its rows' session tokens. */
    record ForgetCredentials(String workspace, List<AgentId> rows) implements Write {
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

        /** Forgets these workspaces' credentials (distinct workspaces) in one transaction; completes once committed. */
        Mono<Void> forgetCredentials(List<ForgetCredentials> batch);
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
    /** Time spent from each batch's start to its commit, and publishing its rows and answering its callers. */
    private final AtomicLong committingNanos = new AtomicLong();
    private final AtomicLong answeringNanos = new AtomicLong();
    /**
     * What follows each commit (publishing its rows, answering its callers; the close signal last),
     * in commit order, run by one thread at a time: whichever finds nobody running them
     * (reactor-core's queue-drain).
     */
    private final Queue<Runnable> answering = new ConcurrentLinkedQueue<>();
    private final AtomicInteger answeringWip = new AtomicInteger();
    private volatile BatchObserver observer = (kind, size, nanos) -> { };
    private volatile boolean closing;
    private final Sinks.Empty<Void> closed = Sinks.empty();
    /**
     * Writes taken from {@code queue} and not yet batched, oldest first: those a batch passed over
     * (another kind, or a workspace the batch or an older waiting write touches) and those read
     * ahead. Touched only while {@code busy}.
     */
    private final ArrayDeque<Pending> passedOver = new ArrayDeque<>();
    /** How many waiting writes a batch looks through: bounds the work of forming one. */
    private final int window;

    RowWriter(Batches batches, Consumer<List<AgentRow>> publish, int maxBatch, int maxQueued) {
        this.batches = batches;
        this.publish = publish;
        this.maxBatch = maxBatch;
        this.maxQueued = maxQueued;
        this.batchSizes = new AtomicLongArray(maxBatch + 1);
        this.window = 4 * maxBatch;
    }

    /** Told of every batch that committed: its kind, its size, and the time from its start to its commit. */
    interface BatchObserver {
        void committed(String kind, int size, long nanos);
    }

    /** Tells {@code observer} of every batch committed from now on (one observer; a later call replaces it). */
    void observe(BatchObserver observer) {
        this.observer = observer;
    }

    /** How many writes wait for a batch. */
    int queued() {
        return queued.get();
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
        return new WriteStats(batchCount, writes, sizes, committingNanos.get(), answeringNanos.get());
    }

    /** Starts the next batch unless one is running. Only the thread that sets {@code busy} takes from the queue. */
    private void drain() {
        while (busy.compareAndSet(false, true)) {
            if (runNextBatch()) {
                return;
            }
            busy.set(false);
            if (queue.isEmpty()) {
                if (closing && queue.isEmpty() && !busy.get()) {
                    // After every answer still to give: they are ahead of it in the lane.
                    answering.offer(() -> {
                        Sinks.EmitResult result = closed.tryEmitEmpty();
                        // A second emission (close called twice) finds it terminated, which is harmless.
                        if (result.isFailure() && result != Sinks.EmitResult.FAIL_TERMINATED) {
                            log.warn("could not signal that the writer closed: {}", result);
                        }
                    });
                    answer();
                }
                return;
            }
        }
    }

    /**
     * Starts the next batch, if any write waits; called only while {@code busy}. When it answers
     * false nothing waits in {@code passedOver} either, so {@code busy} may be released: whenever
     * the writer is not busy, every waiting write is in {@code queue}.
     */
    private boolean runNextBatch() {
        List<Pending> batch = nextBatch();
        if (batch.isEmpty()) {
            return false;
        }
        run(batch);
        return true;
    }

    /**
     * The next batch: the oldest waiting write, then every later write of its kind, within a window
     * of the queue, that touches no workspace (or credential) the batch touches already or that an
     * older write left waiting touches. Builds and the replays they cause arrive interleaved; taking
     * only a run of one kind made batches of two. A write never passes an older one of its
     * workspace, so each workspace's writes still commit in the order taken. Called only while
     * {@code busy}.
     */
    private List<Pending> nextBatch() {
        while (passedOver.size() < window) {
            Pending next = queue.poll();
            if (next == null) {
                break;
            }
            passedOver.add(next);
        }
        List<Pending> batch = new ArrayList<>();
        Set<Key> touched = new HashSet<>();
        Set<Key> waiting = new HashSet<>();
        int kind = -1;
        for (Iterator<Pending> it = passedOver.iterator(); it.hasNext() && batch.size() < maxBatch; ) {
            Pending next = it.next();
            Key key = keyOf(next.write);
            if (kind == -1) {
                kind = kindOf(next.write);
            }
            if (kindOf(next.write) == kind && !waiting.contains(key) && touched.add(key)) {
                batch.add(next);
                it.remove();
            } else {
                waiting.add(key); // nothing later of this workspace (or credential) may pass it
            }
        }
        queued.addAndGet(-batch.size());
        return batch;
    }

    /** What a write touches: compare-and-sets and builds their workspace (one active row each), a credential its hash. */
    private record Key(boolean credential, String name) {
    }

    private static Key keyOf(Write write) {
        if (write instanceof CompareAndSet cas) {
            return new Key(false, cas.expected().workspace());
        }
        if (write instanceof BuildWrite build) {
            return new Key(false, build.workspace());
        }
        if (write instanceof ForgetCredentials forget) {
            return new Key(false, forget.workspace());
        }
        return new Key(true, ((SaveToken) write).tokenHash());
    }

    /** The {@code kind} a batch is reported with. */
    private static String kindName(Write write) {
        return switch (kindOf(write)) {
            case 0 -> "compare_and_set";
            case 1 -> "build";
            case 2 -> "credentials";
            default -> "forget_credentials";
        };
    }

    private static int kindOf(Write write) {
        return write instanceof CompareAndSet ? 0 : write instanceof BuildWrite ? 1 : write instanceof SaveToken ? 2 : 3;
    }

    private void run(List<Pending> batch) {
        long started = System.nanoTime();
        // Each kind's commit, then what follows it: publishing the rows, answering the callers.
        Mono<Runnable> committed;
        if (batch.get(0).write instanceof CompareAndSet) {
            List<CompareAndSet> writes = batch.stream().map(pending -> (CompareAndSet) pending.write).toList();
            committed = batches.compareAndSets(writes).map(written -> () -> {
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
            });
        } else if (batch.get(0).write instanceof ForgetCredentials) {
            List<ForgetCredentials> writes = batch.stream().map(pending -> (ForgetCredentials) pending.write).toList();
            committed = batches.forgetCredentials(writes).then(Mono.just(() -> doneWithoutRows(batch)));
        } else if (batch.get(0).write instanceof SaveToken) {
            List<SaveToken> writes = batch.stream().map(pending -> (SaveToken) pending.write).toList();
            committed = batches.tokens(writes).then(Mono.just(() -> doneWithoutRows(batch)));
        } else {
            List<BuildWrite> writes = batch.stream().map(pending -> (BuildWrite) pending.write).toList();
            committed = batches.builds(writes).map(rowsPerBuild -> () -> {
                publish.accept(rowsPerBuild.stream().flatMap(List::stream).toList());
                for (int i = 0; i < rowsPerBuild.size(); i++) {
                    List<AgentRow> written = rowsPerBuild.get(i);
                    emit(batch.get(i), written.isEmpty() ? NOTHING : written.get(written.size() - 1));
                }
            });
        }
        // The writer's own subscription: nobody outside can cancel it.
        committed.subscribe(
                afterwards -> {
                    long nanos = System.nanoTime() - started;
                    committingNanos.addAndGet(nanos);
                    batchSizes.incrementAndGet(batch.size());
                    observer.committed(kindName(batch.get(0).write), batch.size(), nanos);
                    answering.offer(() -> answered(batch, afterwards));
                },
                error -> ended(batch, error),
                () -> ended(batch, null));
    }

    /** Once committed, a batch that wrote no row: each write is answered TRUE, nothing is published. */
    private static void doneWithoutRows(List<Pending> batch) {
        for (Pending pending : batch) {
            emit(pending, Boolean.TRUE);
        }
    }

    /** Runs what follows a batch's commit; if it fails half-way, the callers not answered yet get the failure. */
    private void answered(List<Pending> batch, Runnable afterwards) {
        long started = System.nanoTime();
        try {
            afterwards.run();
        } catch (RuntimeException e) {
            log.warn("publishing a committed batch of {} writes failed, its callers not answered yet get the error: {}",
                    batch.size(), e.toString());
            for (Pending pending : batch) {
                emitError(pending, e);
            }
        } finally {
            answeringNanos.addAndGet(System.nanoTime() - started);
        }
    }

    /** Runs the lane's waiting work unless another thread is running it, which then runs this too. */
    private void answer() {
        if (answeringWip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            Runnable next;
            while ((next = answering.poll()) != null) {
                try {
                    next.run();
                } catch (RuntimeException e) {
                    // One failed answer must not stop the lane: every later batch's callers wait on it.
                    log.error("the writer could not answer a batch's callers", e);
                }
            }
            missed = answeringWip.addAndGet(-missed);
        } while (missed != 0);
    }

    private void ended(List<Pending> batch, Throwable error) {
        if (error != null) {
            log.warn("a batch of {} writes failed, each answered with the error: {}", batch.size(), error.toString());
            answering.offer(() -> {
                for (Pending pending : batch) {
                    emitError(pending, error);
                }
            });
        }
        // The next batch starts committing before this one's rows are published and its callers answered.
        if (!runNextBatch()) {
            busy.set(false);
            drain();
        }
        answer();
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
