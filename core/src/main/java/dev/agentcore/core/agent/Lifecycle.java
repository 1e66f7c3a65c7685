package dev.agentcore.core.agent;

import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleTransition;
import dev.agentcore.core.internal.OrderedSink;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * The agent's lifecycle: the single writer of its chain of transitions, exposed as a hot Flux.
 *
 * <p>Every call may come from any thread. A transition must move to a later stage (see
 * {@link LifecycleState#canAdvanceTo}); anything else is refused with an
 * {@link IllegalStateException} and changes nothing. Timestamps come from the injected
 * {@link Clock} and are strictly increasing within a chain: a transition in the same
 * millisecond as the previous one is stamped one millisecond after it.
 *
 * <pre>{@code
 * Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
 * lifecycle.transitionTo(LifecycleState.STARTING);
 * lifecycle.transitionTo(LifecycleState.READY);
 * }</pre>
 */
public final class Lifecycle {

    private static final Duration MIN_STEP = Duration.ofMillis(1);

    private final Clock clock;
    private final Object writeLock = new Object();
    /** Each subscriber's buffer; registered and fed as {@link #chainSnapshots()} says. */
    private final List<Sinks.Many<List<LifecycleTransition>>> subscribers = new CopyOnWriteArrayList<>();
    /** After each transition, the chain it ended: subscribers share these lists, nobody copies them. */
    private final OrderedSink<List<LifecycleTransition>> snapshots = new OrderedSink<>(this::emitToSubscribers);

    // Written only under writeLock; volatile so snapshots need no lock.
    private volatile List<LifecycleTransition> chain;

    private Lifecycle(Clock clock, ChainId firstChain) {
        this.clock = clock;
        LifecycleTransition created = new LifecycleTransition(firstChain, 0, LifecycleState.CREATED, clock.instant());
        this.chain = List.of(created);
        snapshots.offer(chain);
        snapshots.drain();
    }

    /** A lifecycle at CREATED, with a fresh random incarnation. */
    public static Lifecycle create(Clock clock) {
        return create(clock, ChainId.newIncarnation());
    }

    /** A lifecycle at CREATED on the given first chain (tests use a fixed incarnation). */
    public static Lifecycle create(Clock clock, ChainId firstChain) {
        return new Lifecycle(Objects.requireNonNull(clock, "clock"), Objects.requireNonNull(firstChain, "firstChain"));
    }

    /**
     * Moves to {@code next} and returns the recorded transition.
     *
     * @throws IllegalStateException if {@code next} is not a later stage than the current state
     */
    public LifecycleTransition transitionTo(LifecycleState next) {
        Objects.requireNonNull(next, "next");
        LifecycleTransition transition;
        synchronized (writeLock) {
            List<LifecycleTransition> current = chain;
            LifecycleTransition last = current.get(current.size() - 1);
            if (!last.state().canAdvanceTo(next)) {
                throw new IllegalStateException("lifecycle cannot go from " + last.state() + " to " + next
                        + ": states only move to a later stage (call reinitialize() to start over)");
            }
            transition = new LifecycleTransition(last.chain(), last.seq() + 1, next, stampAfter(last.changedAt()));
            List<LifecycleTransition> longer = new ArrayList<>(current.size() + 1);
            longer.addAll(current);
            longer.add(transition);
            chain = List.copyOf(longer);
            snapshots.offer(chain);
        }
        snapshots.drain();
        return transition;
    }

    /** Starts a new generation: a fresh chain at CREATED, which the runtime walks through again. */
    public LifecycleTransition reinitialize() {
        LifecycleTransition created;
        synchronized (writeLock) {
            LifecycleTransition last = current();
            created = new LifecycleTransition(last.chain().nextGeneration(), 0, LifecycleState.CREATED,
                    clock.instant());
            chain = List.of(created);
            snapshots.offer(chain);
        }
        snapshots.drain();
        return created;
    }

    /** The latest transition of the current chain. */
    public LifecycleTransition current() {
        List<LifecycleTransition> snapshot = chain;
        return snapshot.get(snapshot.size() - 1);
    }

    /** The current chain, from its CREATED (seq 0) to its latest transition. */
    public List<LifecycleTransition> chain() {
        return chain;
    }

    /**
     * The transitions, as a hot Flux: a subscriber first receives the current chain so far (the
     * current generation, from its CREATED), then every later transition, of this generation and
     * the next ones, in order. It never completes. Earlier generations are not kept, so an agent
     * that reinitializes for ever holds one chain, not its whole history.
     */
    public Flux<LifecycleTransition> transitions() {
        return Flux.defer(() -> {
            boolean[] first = {true};
            return chainSnapshots().concatMapIterable(snapshot -> {
                if (first[0]) {
                    first[0] = false;
                    return snapshot;
                }
                return List.of(snapshot.get(snapshot.size() - 1));
            });
        });
    }

    /**
     * The chain as it stands, then as it stands after each later transition: immutable lists, the
     * last element of each the transition that made it. The chain lives here only; a reader keeps
     * the latest list it received rather than a copy (the reporter's state machine does).
     */
    Flux<List<LifecycleTransition>> chainSnapshots() {
        return Flux.defer(() -> {
            Sinks.Many<List<LifecycleTransition>> mine = Sinks.many().unicast().onBackpressureBuffer();
            synchronized (writeLock) {
                // Under the lock no transition is recorded: the chain is exactly what was recorded so far.
                // Filled before it is registered, so this thread is its only emitter until then.
                emit(mine, chain);
                subscribers.add(mine);
            }
            // A snapshot recorded before the first one may still be on its way from the drain: the
            // first has it already, so only snapshots that end later than the latest one go through.
            LifecycleTransition[] latest = new LifecycleTransition[1];
            return mine.asFlux()
                    .filter(snapshot -> {
                        LifecycleTransition last = snapshot.get(snapshot.size() - 1);
                        if (latest[0] != null && !isAfter(last, latest[0])) {
                            return false;
                        }
                        latest[0] = last;
                        return true;
                    })
                    .doFinally(ended -> subscribers.remove(mine));
        });
    }

    /** Called by the ordered drain, one thread at a time. */
    private void emitToSubscribers(List<LifecycleTransition> snapshot) {
        for (Sinks.Many<List<LifecycleTransition>> subscriber : subscribers) {
            emit(subscriber, snapshot);
        }
    }

    private static void emit(Sinks.Many<List<LifecycleTransition>> subscriber, List<LifecycleTransition> snapshot) {
        Sinks.EmitResult result = subscriber.tryEmitNext(snapshot);
        // Cancelled or terminated: the subscriber is leaving and unregisters itself. An unbounded
        // buffer fed by one thread at a time cannot refuse for any other reason.
        if (result.isFailure() && result != Sinks.EmitResult.FAIL_CANCELLED
                && result != Sinks.EmitResult.FAIL_TERMINATED) {
            throw new IllegalStateException("could not hand a transition to a subscriber: " + result);
        }
    }

    /** Whether {@code transition} was recorded after {@code other}: a later generation, or a later seq in the same one. */
    private static boolean isAfter(LifecycleTransition transition, LifecycleTransition other) {
        long generation = transition.chain().generation();
        long otherGeneration = other.chain().generation();
        return generation != otherGeneration ? generation > otherGeneration : transition.seq() > other.seq();
    }

    private Instant stampAfter(Instant previous) {
        Instant now = clock.instant();
        Instant earliest = previous.plus(MIN_STEP);
        return now.isBefore(earliest) ? earliest : now;
    }
}
