package dev.agentcore.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Reads of one kind asked at about the same time, answered together by one read of all their
 * keys. At a build boundary thousands of agents ask for their new row's manifest within a few
 * milliseconds; one query per agent cost a pooled connection and its thread hand-offs each. A
 * batch takes every waiting key, up to {@code maxBatch}; at most {@code concurrency} batches run
 * at once, and keys asked meanwhile wait for the next. A read starts after it was asked, so it
 * sees every write committed before. A caller that cancels only stops waiting.
 */
final class ReadBatcher<K, V> {

    private static final Logger log = LoggerFactory.getLogger(ReadBatcher.class);

    private final Function<List<K>, Mono<Map<K, V>>> readAll;
    private final int maxBatch;
    private final int concurrency;
    private final Queue<Pending<K, V>> waiting = new ConcurrentLinkedQueue<>();
    /** Drains run one at a time, by whichever thread finds none running (reactor-core's queue-drain). */
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();

    private record Pending<K, V>(K key, Sinks.One<V> answer) {
    }

    /**
     * @param readAll reads these distinct keys; its map holds a value for each key found (a key
     *                left out is answered empty)
     */
    ReadBatcher(Function<List<K>, Mono<Map<K, V>>> readAll, int maxBatch, int concurrency) {
        if (maxBatch < 1 || concurrency < 1) {
            throw new IllegalArgumentException("maxBatch and concurrency: from 1, were " + maxBatch + " and " + concurrency);
        }
        this.readAll = Objects.requireNonNull(readAll, "readAll");
        this.maxBatch = maxBatch;
        this.concurrency = concurrency;
    }

    /** The value read for {@code key}; empty if there is none. */
    Mono<V> read(K key) {
        Objects.requireNonNull(key, "key");
        return Mono.defer(() -> {
            Pending<K, V> pending = new Pending<>(key, Sinks.one());
            waiting.offer(pending);
            drain();
            return pending.answer.asMono();
        });
    }

    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            while (running.get() < concurrency && !waiting.isEmpty()) {
                List<Pending<K, V>> batch = new ArrayList<>();
                Pending<K, V> next;
                while (batch.size() < maxBatch && (next = waiting.poll()) != null) {
                    batch.add(next);
                }
                running.incrementAndGet();
                run(batch);
            }
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }

    private void run(List<Pending<K, V>> batch) {
        Mono<Map<K, V>> read;
        try {
            read = readAll.apply(batch.stream().map(Pending::key).distinct().toList());
        } catch (RuntimeException e) {
            read = Mono.error(e);
        }
        // The batcher's own subscription, like the row writer's: nobody outside can cancel it.
        read.defaultIfEmpty(Map.of()).subscribe(
                found -> {
                    for (Pending<K, V> pending : batch) {
                        V value = found.get(pending.key);
                        answered(value == null ? pending.answer.tryEmitEmpty() : pending.answer.tryEmitValue(value));
                    }
                },
                error -> {
                    for (Pending<K, V> pending : batch) {
                        answered(pending.answer.tryEmitError(error));
                    }
                    done();
                },
                this::done);
    }

    private void done() {
        running.decrementAndGet();
        drain();
    }

    /** Each answer is given once, to a Sinks.One that keeps it for a subscriber still to come: a failure is a bug. */
    private static void answered(Sinks.EmitResult result) {
        if (result.isFailure()) {
            log.warn("could not answer a read: {}", result);
        }
    }
}
