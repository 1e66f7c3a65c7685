package dev.agentcore.core.agent;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleTransition;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.agent.ReporterEvent.ManifestComparison;
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

/**
 * The reporter's rules as a pure state machine: {@link Signal signals} in, {@link Effect effects}
 * out, no Reactor, no I/O. {@link LifecycleReporter} feeds it one signal at a time from its
 * serialized pipeline and carries out the effects; tests feed it directly.
 *
 * <p>It is the single owner of the agent side's reporting state: the row reported to, what was
 * sent and acknowledged there, and the stamps given to each seq on that row. The chain itself
 * is {@link Lifecycle}'s: the machine keeps a reference to the latest immutable snapshot it was
 * given, never a copy.
 *
 * @param <S> how the caller names a session; compared by identity, never looked into
 */
final class ReporterStateMachine<S> {

    private static final Duration MIN_STEP = Duration.ofMillis(1);
    /** Refusals that say the update itself is wrong, or the row is not this process's: re-sending cannot help. */
    private static final Set<ErrorCode> REFUSALS_RETRY_CANNOT_FIX =
            EnumSet.of(ErrorCode.INVALID_TRANSITION, ErrorCode.INVALID_ARGUMENT, ErrorCode.SUPERSEDED);

    /** What happened: a transition of the lifecycle, or something a session did. */
    sealed interface Signal<S> {
    }

    /**
     * The lifecycle's chain as it stands after a transition, from its CREATED: a chain of another
     * id than the one held is a new generation (or the first chain seen).
     */
    record Stepped<S>(List<LifecycleTransition> chain) implements Signal<S> {
        Stepped {
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("chain: a chain holds at least its CREATED");
            }
        }
    }

    /** {@code session} became the current session, bound to its manifest's row, with its measured clock offset. */
    record Connected<S>(S session, Manifest manifest, ClockOffset clockOffset) implements Signal<S> {
    }

    /** {@code session}'s channel acknowledged an update. */
    record Acked<S>(S session, LifecycleAck ack) implements Signal<S> {
    }

    /** {@code session} ended, with the error that ended it if any. */
    record Disconnected<S>(S session, Optional<Throwable> error) implements Signal<S> {
    }

    /** What the caller must do, in order. */
    sealed interface Effect<S> {
    }

    /** Hand {@code update} to {@code session}'s channel. */
    record Send<S>(S session, LifecycleUpdate update) implements Effect<S> {
    }

    /** No more updates go to {@code session}: end its outbound stream. */
    record EndUpdates<S>(S session) implements Effect<S> {
    }

    /** Publish {@code event} to whoever subscribed to the reporter. */
    record Publish<S>(ReporterEvent event) implements Effect<S> {
    }

    private final AgentChangePolicy policy;
    /** The manifest of the last session: AUTO compares the next row's with it. */
    private Manifest lastManifest;
    private final Clock clock;

    /** The lifecycle's latest snapshot of the current generation's chain (the index is the seq); never copied. */
    private List<LifecycleTransition> chain = List.of();
    /** The current session; null between sessions. */
    private S session;
    private ClockOffset clockOffset = ClockOffset.UNKNOWN;
    /** The row of the latest session; null before the first one. */
    private AgentId agentId;
    /** The chain reported to {@link #agentId}; null while waiting for a reinitialization. */
    private ChainId rowChain;
    /** Whether a reinitialization was requested and its new generation has not begun yet. */
    private boolean awaitingReinitialization;
    private long acked;
    private long sent;
    /** Seqs up to this one are replays onto {@link #agentId}. */
    private long replayThrough;
    /** The changed_at given to each seq on {@link #agentId}, index seq - 1, reused when re-sent. */
    private final List<Instant> stamps = new ArrayList<>();
    /** The latest changed_at sent to {@link #agentId}, whatever the chain. */
    private Instant lastStamp;
    /** Sessions in a row that ended with {@link #lastRefusal}, no update acknowledged in between. */
    private int refusalsInARow;
    private ErrorCode lastRefusal;

    ReporterStateMachine(AgentChangePolicy policy, Clock clock) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Takes one signal; returns what to do about it, in order. */
    List<Effect<S>> on(Signal<S> signal) {
        List<Effect<S>> effects = new ArrayList<>(2);
        if (signal instanceof Stepped<S> stepped) {
            step(stepped.chain());
        } else if (signal instanceof Connected<S> connected) {
            connect(connected, effects);
        } else if (signal instanceof Acked<S> ack) {
            acknowledge(ack.session(), ack.ack(), effects);
        } else if (signal instanceof Disconnected<S> disconnected) {
            disconnect(disconnected.session(), disconnected.error(), effects);
        }
        pump(effects);
        return effects;
    }

    private void step(List<LifecycleTransition> snapshot) {
        ChainId id = snapshot.get(0).chain();
        boolean newGeneration = !id.equals(currentChain());
        chain = snapshot;
        if (newGeneration && agentId != null) {
            // A new generation supersedes the old chain, on whatever row we report to.
            bind(id, 0);
            awaitingReinitialization = false;
        }
    }

    private void connect(Connected<S> next, List<Effect<S>> effects) {
        if (session != null) {
            effects.add(new EndUpdates<>(session));
        }
        session = next.session();
        clockOffset = next.clockOffset();
        AgentId bound = next.manifest().agentId();
        Resumption resumption;
        ReinitializationRequest request = null;
        ManifestComparison comparison = ManifestComparison.NOT_COMPARED;
        if (policy == AgentChangePolicy.AUTO && agentId != null && !agentId.equals(bound)) {
            comparison = lastManifest.contentDigest().equals(next.manifest().contentDigest())
                    ? ManifestComparison.SAME : ManifestComparison.CHANGED;
        }
        if (agentId == null) {
            resumption = Resumption.FIRST;
            agentId = bound;
            bind(currentChain(), 0);
        } else if (agentId.equals(bound)) {
            resumption = Resumption.RESUME;
        } else if (comparison == ManifestComparison.SAME && awaitingReinitialization) {
            // The reinitialization requested for the previous row runs these same scripts and has
            // not begun its generation: the old chain ran other scripts and must not be replayed
            // here. The new generation binds to this row when it begins; no second request.
            resumption = Resumption.REINITIALIZE;
            agentId = bound;
            lastStamp = null;
            bind(null, 0);
        } else if (policy == AgentChangePolicy.REPLAY || comparison == ManifestComparison.SAME) {
            resumption = Resumption.REPLAY;
            agentId = bound;
            lastStamp = null;
            bind(currentChain(), chain.size() - 1L);
        } else {
            resumption = Resumption.REINITIALIZE;
            request = new ReinitializationRequest(agentId, next.manifest());
            awaitingReinitialization = true;
            agentId = bound;
            lastStamp = null;
            bind(null, 0);
        }
        sent = acked;
        lastManifest = next.manifest();
        effects.add(new Publish<>(new SessionStarted(next.manifest(), resumption, comparison)));
        if (request != null) {
            // Published once, as an event: the runtime that subscribed to report() reacts to it.
            effects.add(new Publish<>(new ReinitializationRequested(request)));
        }
    }

    private void acknowledge(S from, LifecycleAck ack, List<Effect<S>> effects) {
        if (from != session) {
            return;
        }
        effects.add(new Publish<>(new UpdateAcknowledged(agentId, ack)));
        refusalsInARow = 0;
        lastRefusal = null;
        if (ack.chain().equals(rowChain) && ack.seq() > acked && ack.seq() <= sent) {
            acked = ack.seq();
        }
    }

    private void disconnect(S from, Optional<Throwable> error, List<Effect<S>> effects) {
        if (from != session) {
            return;
        }
        session = null;
        sent = acked;
        effects.add(new Publish<>(new SessionEnded(agentId, error)));
        Optional<AgentcoreException> refusal = error.filter(AgentcoreException.class::isInstance)
                .map(AgentcoreException.class::cast)
                .filter(refused -> REFUSALS_RETRY_CANNOT_FIX.contains(refused.code()));
        if (refusal.isPresent()) {
            ErrorCode code = refusal.get().code();
            refusalsInARow = code == lastRefusal ? refusalsInARow + 1 : 1;
            lastRefusal = code;
            effects.add(new Publish<>(new UpdateRefused(agentId, refusal.get(), refusalsInARow)));
        }
    }

    private void bind(ChainId chainId, long replayThrough) {
        rowChain = chainId;
        acked = 0;
        sent = 0;
        this.replayThrough = replayThrough;
        stamps.clear();
    }

    private void pump(List<Effect<S>> effects) {
        if (session == null || rowChain == null || !rowChain.equals(currentChain())) {
            return;
        }
        for (long seq = sent + 1; seq < chain.size(); seq++) {
            LifecycleTransition transition = chain.get((int) seq);
            boolean replay = seq <= replayThrough;
            // In the control plane's time: the session measured how far this agent's clock is off.
            Instant base = replay ? clock.instant() : transition.changedAt();
            Instant stamp = stampFor(seq, base.plus(clockOffset.correction()));
            LifecycleUpdate update = replay
                    ? LifecycleUpdate.replay(transition, stamp)
                    : LifecycleUpdate.live(transition, stamp);
            effects.add(new Send<>(session, update));
            sent = seq;
            effects.add(new Publish<>(new UpdateSent(agentId, update)));
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
