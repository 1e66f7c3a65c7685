package dev.agentcore.core.internal;

import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * Internal, not part of agentcore's API: emits values into a {@link Sinks.Many} in exactly the
 * order they were offered, from any number of threads, including reentrantly from a subscriber.
 *
 * <p>Callers offer while holding whatever lock orders their writes and drain after releasing
 * it, so subscribers never run under the caller's lock. Whichever thread finds the sink idle
 * drains the queue for everybody (the queue-drain pattern of reactor-core's operators): one
 * emitter at a time, by construction.
 */
public final class OrderedSink<T> {

    private final Sinks.Many<T> sink;
    private final Consumer<T> emit;
    private final Queue<T> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger wip = new AtomicInteger();

    public OrderedSink(Sinks.Many<T> sink) {
        this.sink = Objects.requireNonNull(sink, "sink");
        this.emit = value -> {
            Sinks.EmitResult result = sink.tryEmitNext(value);
            // FAIL_ZERO_SUBSCRIBER only means nobody listens right now, which is fine for a live
            // feed. Anything else cannot happen with one emitter at a time and subscribers that
            // buffer: a value lost silently would be worse than a loud bug.
            if (result.isFailure() && result != Sinks.EmitResult.FAIL_ZERO_SUBSCRIBER) {
                throw new IllegalStateException("OrderedSink could not emit " + value + ": " + result);
            }
        };
    }

    /** Emits through {@code emit}, called by one thread at a time, in the order of offers; {@link #asFlux} is not available. */
    public OrderedSink(Consumer<T> emit) {
        this.sink = null;
        this.emit = Objects.requireNonNull(emit, "emit");
    }

    /** Appends a value; the order of offers is the order of emission. */
    public void offer(T value) {
        queue.offer(Objects.requireNonNull(value, "value"));
    }

    /** Emits everything offered so far, unless another thread is already doing so. */
    public void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            T value;
            while ((value = queue.poll()) != null) {
                emit.accept(value);
            }
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }

    public Flux<T> asFlux() {
        if (sink == null) {
            throw new IllegalStateException("this OrderedSink emits through a consumer, not a sink");
        }
        return sink.asFlux();
    }
}
