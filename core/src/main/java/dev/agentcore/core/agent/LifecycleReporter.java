package dev.agentcore.core.agent;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleTransition;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.agent.ReporterEvent.ReinitializationRequested;
import dev.agentcore.core.agent.ReporterEvent.Resumption;
import dev.agentcore.core.agent.ReporterEvent.SessionEnded;
import dev.agentcore.core.agent.ReporterEvent.SessionStarted;
import dev.agentcore.core.agent.ReporterEvent.UpdateAcknowledged;
import dev.agentcore.core.agent.ReporterEvent.UpdateRefused;
import dev.agentcore.core.agent.ReporterEvent.UpdateSent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
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
 *   <li>under {@link AgentChangePolicy#REINITIALIZE}, it emits a {@link ReinitializationRequested}
 *       event (the runtime re-runs startup as a new generation) and reports that generation instead.</li>
 * </ul>
 * Then live transitions follow. Every changed_at sent to one row is at least 1 ms after the one
 * sent to it before, and every changed_at is corrected by the session's measured
 * {@link AgentSession#clockOffset()}, so that an agent whose clock is off still reports in the
 * control plane's time.
 *
 * <p>All state (the chain, the acknowledged position, the current session) is owned by one
 * serialized pipeline: transitions, session starts, acknowledgements and session ends are
 * merged into one sequence of signals and handled one at a time, so a reconnect cannot race
 * with a live transition.
 *
 * <pre>{@code
 * LifecycleReporter reporter = LifecycleReporter.builder(lifecycle).clock(clock).build();
 * reporter.report(connector.sessions()).subscribe(event -> log.info("{}", event));
 * }</pre>
 */
public final class LifecycleReporter {

    private static final Duration MIN_STEP = Duration.ofMillis(1);
    /** Refusals that say the update itself is wrong, or the row is not this process's: re-sending cannot help. */
    private static final Set<ErrorCode> REFUSALS_RETRY_CANNOT_FIX =
            EnumSet.of(ErrorCode.INVALID_TRANSITION, ErrorCode.INVALID_ARGUMENT, ErrorCode.SUPERSEDED);

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
     * Flux has completed and its last session has ended; fails with the {@link AgentcoreException}
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
            ReportingState state = new ReportingState(policy, clock);
            Flux<Signal> steps = lifecycle.transitions().map(Stepped::new);
            Flux<Signal> sessionSignals = sessions.switchMap(LifecycleReporter::signalsOf)
                    .concatWith(Mono.just(SessionsEnded.INSTANCE));
            return Flux.merge(steps, sessionSignals)
                    .takeUntil(signal -> signal == SessionsEnded.INSTANCE)
                    .concatMapIterable(state::on)
                    .<ReporterEvent>handle((event, sink) -> {
                        sink.next(event);
                        // Another process took the row: reporting on would only fight it for the row.
                        if (event instanceof UpdateRefused refused && refused.refusal().code() == ErrorCode.SUPERSEDED) {
                            sink.error(refused.refusal());
                        }
                    })
                    .doFinally(ignored -> running.set(false));
        });
    }

    private static Flux<Signal> signalsOf(AgentSession session) {
        Link link = new Link(session);
        return Flux.defer(() -> session.lifecycleChannel(link.outbound.asFlux()))
                .takeUntilOther(session.onClose())
                .<Signal>map(ack -> new Acked(link, ack))
                .concatWith(Mono.fromSupplier(() -> new Disconnected(link, Optional.empty())))
                .onErrorResume(error -> Mono.just(new Disconnected(link, Optional.of(error))))
                .startWith(new Connected(link));
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

    // ---- the serialized pipeline's input ------------------------------------------------------

    private sealed interface Signal permits Stepped, Connected, Acked, Disconnected, SessionsEnded {
    }

    private record Stepped(LifecycleTransition transition) implements Signal {
    }

    private record Connected(Link link) implements Signal {
    }

    private record Acked(Link link, LifecycleAck ack) implements Signal {
    }

    private record Disconnected(Link link, Optional<Throwable> error) implements Signal {
    }

    private enum SessionsEnded implements Signal {
        INSTANCE
    }

    /** A session and the updates the pipeline hands to its channel. */
    private static final class Link {
        final AgentSession session;
        final Sinks.Many<LifecycleUpdate> outbound = Sinks.many().unicast().onBackpressureBuffer();

        Link(AgentSession session) {
            this.session = session;
        }

        AgentId agent() {
            return session.manifest().agentId();
        }
    }

    /**
     * Everything the reporter knows, touched only by {@link #on}, which the pipeline calls for one
     * signal at a time: the single writer of the acknowledged position.
     */
    private static final class ReportingState {

        private final AgentChangePolicy policy;
        private final Clock clock;

        /** The current generation's chain; the index is the seq. */
        private final List<LifecycleTransition> chain = new ArrayList<>();
        private Link link;
        /** The row of the latest session; null before the first one. */
        private AgentId row;
        /** The chain reported to {@link #row}; null while waiting for a reinitialization. */
        private ChainId rowChain;
        private long acked;
        private long sent;
        /** Seqs up to this one are replays onto {@link #row}. */
        private long replayThrough;
        /** The changed_at given to each seq on {@link #row}, index seq - 1, reused when re-sent. */
        private final List<Instant> stamps = new ArrayList<>();
        /** The latest changed_at sent to {@link #row}, whatever the chain. */
        private Instant lastStamp;
        /** Sessions in a row that ended with {@link #lastRefusal}, no update acknowledged in between. */
        private int refusalsInARow;
        private ErrorCode lastRefusal;

        ReportingState(AgentChangePolicy policy, Clock clock) {
            this.policy = policy;
            this.clock = clock;
        }

        List<ReporterEvent> on(Signal signal) {
            List<ReporterEvent> events = new ArrayList<>(2);
            if (signal instanceof Stepped stepped) {
                step(stepped.transition());
            } else if (signal instanceof Connected connected) {
                connect(connected.link(), events);
            } else if (signal instanceof Acked ack) {
                acknowledge(ack.link(), ack.ack(), events);
            } else if (signal instanceof Disconnected disconnected) {
                disconnect(disconnected.link(), disconnected.error(), events);
            }
            pump(events);
            return events;
        }

        private void step(LifecycleTransition transition) {
            if (transition.seq() == 0) {
                // A new generation: it supersedes the old chain, on whatever row we report to.
                chain.clear();
                chain.add(transition);
                if (row != null) {
                    bind(transition.chain(), 0);
                }
            } else if (!chain.isEmpty() && chain.get(0).chain().equals(transition.chain())) {
                chain.add(transition);
            }
        }

        private void connect(Link next, List<ReporterEvent> events) {
            if (link != null) {
                emitted(link.outbound.tryEmitComplete(), "the end of the previous session's updates");
            }
            link = next;
            AgentId agent = next.agent();
            Resumption resumption;
            ReinitializationRequest request = null;
            if (row == null) {
                resumption = Resumption.FIRST;
                row = agent;
                bind(currentChain(), 0);
            } else if (row.equals(agent)) {
                resumption = Resumption.RESUME;
            } else if (policy == AgentChangePolicy.REPLAY) {
                resumption = Resumption.REPLAY;
                row = agent;
                lastStamp = null;
                bind(currentChain(), chain.size() - 1L);
            } else {
                resumption = Resumption.REINITIALIZE;
                request = new ReinitializationRequest(row, next.session.manifest());
                row = agent;
                lastStamp = null;
                bind(null, 0);
            }
            sent = acked;
            events.add(new SessionStarted(next.session.manifest(), resumption));
            if (request != null) {
                // Published once, as an event: the runtime that subscribed to report() reacts to it.
                events.add(new ReinitializationRequested(request));
            }
        }

        private void acknowledge(Link from, LifecycleAck ack, List<ReporterEvent> events) {
            if (from != link) {
                return;
            }
            events.add(new UpdateAcknowledged(row, ack));
            refusalsInARow = 0;
            lastRefusal = null;
            if (ack.chain().equals(rowChain) && ack.seq() > acked && ack.seq() <= sent) {
                acked = ack.seq();
            }
        }

        private void disconnect(Link from, Optional<Throwable> error, List<ReporterEvent> events) {
            if (from != link) {
                return;
            }
            link = null;
            sent = acked;
            events.add(new SessionEnded(row, error));
            Optional<AgentcoreException> refusal = error.filter(AgentcoreException.class::isInstance)
                    .map(AgentcoreException.class::cast).filter(refused -> REFUSALS_RETRY_CANNOT_FIX.contains(refused.code()));
            if (refusal.isPresent()) {
                ErrorCode code = refusal.get().code();
                refusalsInARow = code == lastRefusal ? refusalsInARow + 1 : 1;
                lastRefusal = code;
                events.add(new UpdateRefused(row, refusal.get(), refusalsInARow));
            }
        }

        private void bind(ChainId chainId, long replayThrough) {
            rowChain = chainId;
            acked = 0;
            sent = 0;
            this.replayThrough = replayThrough;
            stamps.clear();
        }

        private void pump(List<ReporterEvent> events) {
            if (link == null || rowChain == null || !rowChain.equals(currentChain())) {
                return;
            }
            for (long seq = sent + 1; seq < chain.size(); seq++) {
                LifecycleTransition transition = chain.get((int) seq);
                boolean replay = seq <= replayThrough;
                // In the control plane's time: the session measured how far this agent's clock is off.
                Duration correction = link.session.clockOffset().correction();
                Instant stamp = stampFor(seq, (replay ? clock.instant() : transition.changedAt()).plus(correction));
                LifecycleUpdate update = replay
                        ? LifecycleUpdate.replay(transition, stamp)
                        : LifecycleUpdate.live(transition, stamp);
                emitted(link.outbound.tryEmitNext(update), "update " + seq);
                sent = seq;
                events.add(new UpdateSent(row, update));
            }
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

        /** The changed_at for {@code seq} on the current row: the one it had, or max(base, last + 1 ms). */
        private Instant stampFor(long seq, Instant base) {
            int index = (int) seq - 1;
            if (index < stamps.size()) {
                return stamps.get(index);
            }
            Instant stamp = base;
            if (lastStamp != null && !stamp.isAfter(lastStamp.plus(MIN_STEP))) {
                stamp = lastStamp.plus(MIN_STEP);
            }
            stamps.add(stamp);
            lastStamp = stamp;
            return stamp;
        }

        private ChainId currentChain() {
            return chain.isEmpty() ? null : chain.get(0).chain();
        }
    }
}
