package dev.agentcore.core.agent;

import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.agent.ReporterStateMachine.Acked;
import dev.agentcore.core.agent.ReporterStateMachine.Connected;
import dev.agentcore.core.agent.ReporterStateMachine.Disconnected;
import dev.agentcore.core.agent.ReporterStateMachine.Effect;
import dev.agentcore.core.agent.ReporterStateMachine.EndUpdates;
import dev.agentcore.core.agent.ReporterStateMachine.Publish;
import dev.agentcore.core.agent.ReporterStateMachine.Send;
import dev.agentcore.core.agent.ReporterStateMachine.Signal;
import dev.agentcore.core.agent.ReporterStateMachine.Stepped;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Reports a {@link Lifecycle} to the control plane over a stream of sessions, one at a time.
 *
 * <p>Each new session supersedes the previous one and continues by these rules:
 * <ul>
 *   <li>the first session sends every transition after CREATED, with its own timestamp;</li>
 *   <li>a session bound to the same agent row as before sends from the last acknowledged seq + 1
 *       (nothing acknowledged is sent again, and an update sent before keeps its timestamp);</li>
 *   <li>a session bound to a different row, under {@link AgentChangePolicy#REPLAY}, sends the whole
 *       current chain again from seq 1, marked replay, stamped now, now + 1 ms, now + 2 ms, ...
 *       with the original time beside each;</li>
 *   <li>under {@link AgentChangePolicy#REINITIALIZE}, it emits a {@link ReporterEvent.ReinitializationRequested}
 *       event (the runtime re-runs startup as a new generation) and reports that generation instead.</li>
 * </ul>
 * Then live transitions follow. Every changed_at sent to one row is at least 1 ms after the one
 * sent to it before, and every changed_at is corrected by the session's measured
 * {@link AgentSession#clockOffset()}, so that an agent whose clock is off still reports in the
 * control plane's time.
 *
 * <p>All state (the chain, the acknowledged position, the current session) is owned by one
 * state machine fed by one serialized pipeline: transitions, session starts, acknowledgements
 * and session ends are merged into one sequence of signals and handled one at a time, so a
 * reconnect cannot race with a live transition.
 *
 * <pre>{@code
 * LifecycleReporter reporter = LifecycleReporter.builder(lifecycle).clock(clock).build();
 * reporter.report(connector.sessions()).subscribe(event -> log.info("{}", event));
 * }</pre>
 */
public final class LifecycleReporter {

    /** Marks the end of the sessions Flux in the merged signals; it ends them and never reaches the machine. */
    private static final Signal<Link> SESSIONS_ENDED = new Disconnected<>(null, Optional.empty());

    private final Lifecycle lifecycle;
    private final AgentChangePolicy policy;
    private final Clock clock;
    private final AtomicBoolean running = new AtomicBoolean();

    private LifecycleReporter(Builder builder) {
        this.lifecycle = builder.lifecycle;
        this.policy = builder.policy;
        this.clock = builder.clock;
    }

    /** Starts configuring a reporter for {@code lifecycle}: policy REPLAY, the UTC system clock. */
    public static Builder builder(Lifecycle lifecycle) {
        return new Builder(lifecycle);
    }

    /**
     * Reports the lifecycle over {@code sessions} while subscribed; completes once the sessions
     * Flux has completed and its last session has ended; fails with the {@link dev.agentcore.core.AgentcoreException}
     * (code SUPERSEDED) when another agent process took the row. One subscription at a time: a second concurrent one fails with
     * {@link IllegalStateException}.
     */
    public Flux<ReporterEvent> report(Flux<? extends AgentSession> sessions) {
        Objects.requireNonNull(sessions, "sessions");
        return Flux.defer(() -> {
            if (!running.compareAndSet(false, true)) {
                return Flux.error(new IllegalStateException(
                        "this reporter is already running: subscribe to report() once at a time"));
            }
            ReporterStateMachine<Link> machine = new ReporterStateMachine<>(policy, clock);
            Flux<Signal<Link>> steps = lifecycle.chainSnapshots().map(Stepped<Link>::new);
            Flux<Signal<Link>> sessionSignals = sessions.switchMap(LifecycleReporter::signalsOf)
                    .concatWith(Mono.just(SESSIONS_ENDED));
            return Flux.merge(steps, sessionSignals)
                    .takeWhile(signal -> signal != SESSIONS_ENDED)
                    // The machine is the only writer of the reporting state: signals reach it one at a time.
                    .concatMapIterable(signal -> carryOut(machine.on(signal)))
                    .<ReporterEvent>handle((event, sink) -> {
                        sink.next(event);
                        // Another process took the row: reporting on would only fight it for the row.
                        if (event instanceof ReporterEvent.UpdateRefused refused && refused.refusal().code() == ErrorCode.SUPERSEDED) {
                            sink.error(refused.refusal());
                        }
                    })
                    .doFinally(ignored -> running.set(false));
        });
    }

    private static Flux<Signal<Link>> signalsOf(AgentSession session) {
        Link link = new Link(session);
        return Flux.defer(() -> session.lifecycleChannel(link.outbound.asFlux()))
                .takeUntilOther(session.onClose())
                .<Signal<Link>>map(ack -> new Acked<>(link, ack))
                .concatWith(Mono.fromSupplier(() -> new Disconnected<>(link, Optional.empty())))
                .onErrorResume(error -> Mono.just(new Disconnected<>(link, Optional.of(error))))
                .startWith(new Connected<>(link, session.manifest(), session.clockOffset()));
    }

    /** Configures a {@link LifecycleReporter}. */
    public static final class Builder {

        private final Lifecycle lifecycle;
        private AgentChangePolicy policy = AgentChangePolicy.REPLAY;
        private Clock clock = Clock.systemUTC();

        private Builder(Lifecycle lifecycle) {
            this.lifecycle = Objects.requireNonNull(lifecycle, "lifecycle");
        }

        /** What to do when a session is bound to a different agent row; REPLAY by default. */
        public Builder onAgentChange(AgentChangePolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** The clock for refreshed replay timestamps; the UTC system clock by default. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public LifecycleReporter build() {
            return new LifecycleReporter(this);
        }
    }

    /** A session and the updates the pipeline hands to its channel. */
    private static final class Link {
        final AgentSession session;
        final Sinks.Many<LifecycleUpdate> outbound = Sinks.many().unicast().onBackpressureBuffer();

        Link(AgentSession session) {
            this.session = session;
        }
    }

    /** Carries out the state machine's effects on the sessions' sinks; returns the events to publish. */
    private static List<ReporterEvent> carryOut(List<Effect<Link>> effects) {
        List<ReporterEvent> events = new ArrayList<>(effects.size());
        for (Effect<Link> effect : effects) {
            if (effect instanceof Send<Link> send) {
                emitted(send.session().outbound.tryEmitNext(send.update()), "update " + send.update().seq());
            } else if (effect instanceof EndUpdates<Link> end) {
                emitted(end.session().outbound.tryEmitComplete(), "the end of the previous session's updates");
            } else if (effect instanceof Publish<Link> publish) {
                events.add(publish.event());
            }
        }
        return events;
    }

    /**
     * A session's outbound sink refuses values only once its channel has ended (cancelled or
     * terminated): the session is over, and the next one resends from the last acknowledged
     * seq. Anything else would be a bug of this serialized pipeline, so it is not swallowed.
     */
    private static void emitted(Sinks.EmitResult result, String what) {
        if (result.isFailure() && result != Sinks.EmitResult.FAIL_CANCELLED
                && result != Sinks.EmitResult.FAIL_TERMINATED) {
            throw new IllegalStateException("could not emit " + what + ": " + result);
        }
    }
}
