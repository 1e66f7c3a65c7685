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
    private final OrderedSink<LifecycleTransition> transitions =
            new OrderedSink<>(Sinks.many().replay().all());

    // Written only under writeLock; volatile so snapshots need no lock.
    private volatile List<LifecycleTransition> chain;

    private Lifecycle(Clock clock, ChainId firstChain) {
        this.clock = clock;
        LifecycleTransition created = new LifecycleTransition(firstChain, 0, LifecycleState.CREATED, clock.instant());
        this.chain = List.of(created);
        transitions.offer(created);
        transitions.drain();
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
            transitions.offer(transition);
        }
        transitions.drain();
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
            transitions.offer(created);
        }
        transitions.drain();
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
     * Every transition, as a hot Flux: a subscriber first receives all transitions so far
     * (every generation, in order), then live ones. It never completes.
     */
    public Flux<LifecycleTransition> transitions() {
        return transitions.asFlux();
    }

    private Instant stampAfter(Instant previous) {
        Instant now = clock.instant();
        Instant earliest = previous.plus(MIN_STEP);
        return now.isBefore(earliest) ? earliest : now;
    }
}
