package dev.agentcore.core.control;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleAck.Outcome;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.internal.Randomness;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * The control plane's side of lifecycle reporting: applies agents' updates to their rows,
 * starts and stops builds, and streams a workspace's row to watchers.
 *
 * <p>{@link #apply} follows DESIGN.md 4.2: a retired or unknown row is FENCED; CREATED and
 * missing states are INVALID_ARGUMENT; a re-sent update is acknowledged as a duplicate without
 * a write; within a chain seqs follow each other and states only move forward
 * (INVALID_TRANSITION otherwise), and a new chain starts at seq 1; timestamps are clamped into
 * [created_at, now + allowed skew] (no skew by default) and ready_at is at least 1 ms after
 * started_at, so a row keeps its order whatever the agent's clock says; the write is a compare-and-set on the row version, retried
 * from a fresh read when another writer got there first.
 *
 * <p>Metrics: {@code agentcore.build.duration} (timer, once per row, from created_at to the end
 * of startup, tagged {@code outcome} and {@code replay}), {@code agentcore.lifecycle.clamped}
 * (counter, tagged {@code reason}), {@code agentcore.lifecycle.updates} (counter of answered
 * updates, tagged {@code outcome}: applied, duplicate or refused),
 * {@code agentcore.lifecycle.refused} (counter of refused updates, tagged {@code code}: a peer refused
 * again and again, or superseded, shows here).
 *
 * <p>One live reporter per row: a chain of another incarnation (another agent process) may take
 * a row by beginning at seq 1, and from then on every update of the row's previous chain is
 * refused with SUPERSEDED, so the older process stops instead of fighting for the row.
 */
public final class LifecycleService {

    private static final String BUILD_DURATION = "agentcore.build.duration";
    /** The least time between started_at and ready_at: they are never equal, whatever the agent's clock. */
    private static final Duration MIN_STEP = Duration.ofMillis(1);
    private static final String CLAMPED = "agentcore.lifecycle.clamped";
    private static final String UPDATES = "agentcore.lifecycle.updates";
    private static final String REFUSED = "agentcore.lifecycle.refused";
    private static final Logger log = LoggerFactory.getLogger(LifecycleService.class);

    private final AgentStore store;
    private final Clock clock;
    private final MeterRegistry meters;
    private final Duration allowedSkew;
    private final Counter applied;
    private final Counter duplicates;
    private final Counter refused;
    /**
     * Updates as applied, for whoever watches (a dashboard). Emitted under its own lock, as
     * updates are applied on many threads; a watcher too slow to keep up misses updates rather
     * than slowing agents down.
     */
    private final Sinks.Many<AppliedUpdate> appliedUpdates = Sinks.unsafe().many().multicast().directBestEffort();

    private LifecycleService(Builder builder) {
        this.store = builder.store;
        this.clock = builder.clock;
        this.meters = builder.meters;
        this.allowedSkew = builder.allowedSkew;
        this.applied = updates(meters, "applied");
        this.duplicates = updates(meters, "duplicate");
        this.refused = updates(meters, "refused");
        // A build's new AgentId is drawn wherever startBuild runs (an event loop, for the control
        // plane): seed the generator here, where blocking is allowed.
        Randomness.seedNow();
    }

    /** Starts configuring a service over {@code store}: UTC system clock, no allowed skew. */
    public static Builder builder(AgentStore store) {
        return new Builder(store);
    }

    /** The row with this id; empty if there is none. */
    public Mono<AgentRow> row(AgentId agentId) {
        Objects.requireNonNull(agentId, "agentId");
        return store.findRow(agentId);
    }

    /**
     * The row as this replica last saw it, without a round trip where the store keeps such a
     * picture; it may lag another replica's write, so use it only where the change that corrects
     * it is watched for ({@link AgentStore#recentRow}).
     */
    public Mono<AgentRow> recentRow(AgentId agentId) {
        Objects.requireNonNull(agentId, "agentId");
        return store.recentRow(agentId);
    }

    /** The workspace's latest row (active or retired); empty if it has none. */
    public Mono<AgentRow> latestRow(String workspace) {
        Objects.requireNonNull(workspace, "workspace");
        return store.latestRow(workspace);
    }

    /** The workspace's rows, latest build first, at most {@code limit}. */
    public Flux<AgentRow> rows(String workspace, int limit) {
        Objects.requireNonNull(workspace, "workspace");
        if (limit < 1) {
            throw new IllegalArgumentException("limit: must be positive, was " + limit);
        }
        return store.rows(workspace, limit);
    }

    /** Every row change of every workspace from the moment of subscription. Never completes on its own. */
    public Flux<AgentRow> changes() {
        return store.changes();
    }

    /**
     * Every lifecycle update this service applies from the moment of subscription (not those
     * another replica applies), with whether it was a replay. Hot, never completes; a subscriber
     * that cannot keep up misses updates.
     */
    public Flux<AppliedUpdate> appliedUpdates() {
        return appliedUpdates.asFlux();
    }

    /**
     * Applies one update to the row {@code agentId}, which the caller took from the authenticated
     * session, never from the update. Errors with {@link AgentcoreException} on refusal.
     */
    public Mono<LifecycleAck> apply(AgentId agentId, LifecycleUpdate update) {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(update, "update");
        return Mono.defer(() -> {
                    if (update.state() == LifecycleState.CREATED) {
                        return Mono.error(new AgentcoreException(ErrorCode.INVALID_ARGUMENT,
                                "CREATED is set by the control plane when a build starts; an agent reports from STARTING on"));
                    }
                    if (update.seq() < 1) {
                        return Mono.error(new AgentcoreException(ErrorCode.INVALID_ARGUMENT,
                                "seq must be 1 or more (seq 0 is the chain's CREATED), was " + update.seq()));
                    }
                    // First on the store's recent picture of the row (no read on the hot path). That picture
                    // may lag another replica's write, so whatever is not applied or a duplicate on it (a
                    // refusal, a lost compare-and-set, no row) is decided again on a fresh read.
                    return store.recentRow(agentId)
                            .flatMap(row -> applyTo(row, update))
                            .onErrorResume(error -> error instanceof AgentcoreException || error == LostRace.INSTANCE,
                                    notOnTheRecentPicture -> applyToStoredRow(agentId, update))
                            .switchIfEmpty(Mono.defer(() -> applyToStoredRow(agentId, update)));
                })
                // Counted once per answer (a refusal may be decided twice: on the recent picture, then fresh).
                .doOnNext(ack -> (ack.outcome() == Outcome.APPLIED ? applied : duplicates).increment())
                .doOnError(AgentcoreException.class, refusal -> {
                    refused.increment();
                    meters.counter(REFUSED, "code", refusal.code().name()).increment();
                });
    }

    private static Counter updates(MeterRegistry meters, String outcome) {
        return Counter.builder(UPDATES).tag("outcome", outcome)
                .description("Lifecycle updates answered: applied, duplicate (acknowledged again) or refused")
                .register(meters);
    }

    /** Applies the update to the row as stored now, reading it again after every lost compare-and-set. */
    private Mono<LifecycleAck> applyToStoredRow(AgentId agentId, LifecycleUpdate update) {
        return Mono.defer(() -> store.findRow(agentId)
                        .switchIfEmpty(Mono.error(() -> new AgentcoreException(ErrorCode.FENCED,
                                "agent row " + agentId + " does not exist: exchange the instance identity again")))
                        .flatMap(row -> applyTo(row, update)))
                .retryWhen(Retry.indefinitely().filter(LostRace.class::isInstance));
    }

    /**
     * Starts a build of {@code workspace} with the scripts it was created with (revision 1): a new
     * row at CREATED; the previous row is retired. For a workspace whose scripts were updated, see
     * {@link #startBuild(String, long)}.
     */
    public Mono<AgentRow> startBuild(String workspace) {
        return startBuild(workspace, 1);
    }

    /**
     * Starts a build of {@code workspace} whose row's manifest carries that revision of the
     * workspace's scripts ({@link WorkspaceStore#scriptsRevision}): a new row at CREATED; the
     * previous row is retired.
     */
    public Mono<AgentRow> startBuild(String workspace, long scriptsRevision) {
        Objects.requireNonNull(workspace, "workspace");
        return Mono.defer(() -> store.startBuild(workspace, scriptsRevision, clock.instant()));
    }

    /** Stops the workspace's build: retires its active row; empty if none was active. */
    public Mono<AgentRow> stopBuild(String workspace) {
        Objects.requireNonNull(workspace, "workspace");
        return store.stopBuild(workspace);
    }

    /**
     * The workspace's latest row, then every later picture of it: its changes, and the next
     * build's row when one starts. Never completes on its own.
     */
    public Flux<AgentRow> watch(String workspace) {
        Objects.requireNonNull(workspace, "workspace");
        return Flux.defer(() -> {
            // Subscribe to changes before reading the latest row, so nothing falls in between;
            // then drop whatever is not newer than what this watcher already saw.
            AtomicReference<AgentRow> seen = new AtomicReference<>();
            Flux<AgentRow> live = store.changes().filter(row -> row.workspace().equals(workspace));
            return Flux.merge(live, store.latestRow(workspace))
                    .filter(row -> {
                        AgentRow previous = seen.get();
                        if (previous != null && !row.isNewerThan(previous)) {
                            return false;
                        }
                        seen.set(row);
                        return true;
                    });
        });
    }

    private Mono<LifecycleAck> applyTo(AgentRow row, LifecycleUpdate update) {
        if (!row.active()) {
            return Mono.error(new AgentcoreException(ErrorCode.FENCED, "agent row " + row.agentId()
                    + " was retired by a later build of workspace " + row.workspace()
                    + ": exchange the instance identity again for the current row"));
        }
        boolean sameChain = update.chain().equals(row.lastChain());
        if (sameChain && update.seq() <= row.lastSeq()) {
            return Mono.just(new LifecycleAck(update.chain(), update.seq(), Outcome.DUPLICATE, row.state()));
        }
        AgentcoreException refusal = sameChain ? refusalWithinChain(row, update) : refusalOfNewChain(row, update);
        if (refusal != null) {
            return Mono.error(refusal);
        }
        Instant now = clock.instant();
        Instant changedAt = clamp(update.changedAt(), row, now);
        AgentRow next = applied(row, update, changedAt);
        return store.compareAndSet(row, next).flatMap(written -> {
            if (!written) {
                return Mono.error(LostRace.INSTANCE);
            }
            if (row.lastChain() != null && !row.lastChain().sameIncarnation(update.chain()) && !row.state().isFinal()) {
                log.warn("agent row {} of workspace {}: a new agent process (chain {}) took the row from chain {} in "
                        + "state {}; if that process still runs, it is told SUPERSEDED and must stop",
                        row.agentId(), row.workspace(), update.chain(), row.lastChain(), row.state());
            }
            announce(new AppliedUpdate(next, changedAt, update.replay()));
            if (next.buildDurationRecorded() && !row.buildDurationRecorded()) {
                Timer.builder(BUILD_DURATION)
                        .tag("outcome", next.state().name())
                        .tag("replay", Boolean.toString(update.replay()))
                        .register(meters)
                        .record(Duration.between(next.createdAt(), next.readyAt()));
            }
            return Mono.just(new LifecycleAck(update.chain(), update.seq(), Outcome.APPLIED, next.state()));
        });
    }

    private void announce(AppliedUpdate applied) {
        if (appliedUpdates.currentSubscriberCount() == 0) {
            return;
        }
        synchronized (appliedUpdates) {
            Sinks.EmitResult result = appliedUpdates.tryEmitNext(applied);
            // Zero subscribers: the last watcher left meanwhile. Overflow: every watcher is behind, and
            // a watcher misses updates rather than holding up the agents.
            if (result.isFailure() && result != Sinks.EmitResult.FAIL_ZERO_SUBSCRIBER
                    && result != Sinks.EmitResult.FAIL_OVERFLOW) {
                log.debug("could not hand an applied update to its watchers: {}", result);
            }
        }
    }

    private static AgentcoreException refusalWithinChain(AgentRow row, LifecycleUpdate update) {
        if (update.seq() != row.lastSeq() + 1) {
            return new AgentcoreException(ErrorCode.INVALID_TRANSITION, "seq " + update.seq() + " of chain "
                    + update.chain() + " does not follow the last applied seq " + row.lastSeq());
        }
        if (!row.state().canAdvanceTo(update.state())) {
            return new AgentcoreException(ErrorCode.INVALID_TRANSITION, "agent row " + row.agentId() + " cannot go from "
                    + row.state() + " to " + update.state() + " within one chain: states only move forward");
        }
        return null;
    }

    private static AgentcoreException refusalOfNewChain(AgentRow row, LifecycleUpdate update) {
        if (update.seq() != 1 && row.lastChain() != null && !row.lastChain().sameIncarnation(update.chain())) {
            // Another process's chain holds the row: this one was superseded when that chain began.
            return new AgentcoreException(ErrorCode.SUPERSEDED, "agent row " + row.agentId() + " is reported by another "
                    + "agent process (chain " + row.lastChain() + ") that started after this one (chain "
                    + update.chain() + "): stop reporting; two processes must not share one instance identity");
        }
        if (update.seq() != 1) {
            return new AgentcoreException(ErrorCode.INVALID_TRANSITION, "chain " + update.chain()
                    + " is new to agent row " + row.agentId() + " and must begin at seq 1, not " + update.seq());
        }
        if (row.lastChain() != null && row.lastChain().sameIncarnation(update.chain())
                && update.chain().generation() < row.lastChain().generation()) {
            return new AgentcoreException(ErrorCode.INVALID_TRANSITION, "chain " + update.chain()
                    + " is an older generation than the row's chain " + row.lastChain());
        }
        return null;
    }

    private Instant clamp(Instant changedAt, AgentRow row, Instant now) {
        if (changedAt == null) {
            meters.counter(CLAMPED, "reason", "missing").increment();
            return now;
        }
        if (changedAt.isBefore(row.createdAt())) {
            meters.counter(CLAMPED, "reason", "before_created").increment();
            return row.createdAt();
        }
        if (changedAt.isAfter(now.plus(allowedSkew))) {
            meters.counter(CLAMPED, "reason", "future").increment();
            return now;
        }
        return changedAt;
    }

    private static AgentRow applied(AgentRow row, LifecycleUpdate update, Instant changedAt) {
        LifecycleState state = update.state();
        Instant startedAt = row.startedAt();
        Instant readyAt = row.readyAt();
        boolean recorded = row.buildDurationRecorded();
        if (state == LifecycleState.STARTING) {
            startedAt = changedAt;
            readyAt = null;
        } else if (state.isStartOutcome()) {
            if (startedAt == null) {
                startedAt = changedAt;
            }
            // Startup ends after it began, whatever the agent's clock or clamping did to either end.
            readyAt = changedAt.isAfter(startedAt) ? changedAt : startedAt.plus(MIN_STEP);
            recorded = true;
        }
        return new AgentRow(row.agentId(), row.workspace(), row.buildNumber(), row.createdAt(), state, startedAt, readyAt,
                update.chain(), update.seq(), true, recorded, row.version() + 1, row.scriptsRevision());
    }

    /** Another writer changed the row between our read and our compare-and-set: read again. */
    private static final class LostRace extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final LostRace INSTANCE = new LostRace();

        private LostRace() {
            super("lost a compare-and-set race", null, false, false);
        }
    }

    /** Configures a {@link LifecycleService}. */
    public static final class Builder {

        private final AgentStore store;
        private Clock clock = Clock.systemUTC();
        private MeterRegistry meters = new SimpleMeterRegistry();
        private Duration allowedSkew = Duration.ZERO;

        private Builder(AgentStore store) {
            this.store = Objects.requireNonNull(store, "store");
        }

        /** The control plane's clock: "now" for missing and future timestamps, and created_at. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Where metrics go; a private {@link SimpleMeterRegistry} by default. */
        public Builder meterRegistry(MeterRegistry meters) {
            this.meters = Objects.requireNonNull(meters, "meters");
            return this;
        }

        /**
         * How far in the future an agent's timestamp may be before it is clamped to now; zero by
         * default, so that no row holds a time the control plane has not reached.
         */
        public Builder allowedClockSkew(Duration allowedSkew) {
            Objects.requireNonNull(allowedSkew, "allowedSkew");
            if (allowedSkew.isNegative()) {
                throw new IllegalArgumentException("allowedSkew: must not be negative, was " + allowedSkew);
            }
            this.allowedSkew = allowedSkew;
            return this;
        }

        public LifecycleService build() {
            return new LifecycleService(this);
        }
    }
}
