package dev.agentcore.core.control;

import static dev.agentcore.core.LifecycleState.CREATED;
import static dev.agentcore.core.LifecycleState.READY;
import static dev.agentcore.core.LifecycleState.SHUTTING_DOWN;
import static dev.agentcore.core.LifecycleState.STARTING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleAck.Outcome;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.testing.ForwardingAgentStore;
import dev.agentcore.core.testing.MutableClock;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class LifecycleServiceTest {

    private static final ChainId CHAIN = new ChainId("incarnation-1", 0);
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final MutableClock clock = MutableClock.at("2026-01-01T10:00:00Z");
    private final InMemoryAgentStore store = new InMemoryAgentStore();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final LifecycleService service = LifecycleService.builder(store).clock(clock).meterRegistry(meters).build();
    private final ExecutorService pool = Executors.newFixedThreadPool(8);

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    private AgentRow build() {
        return service.startBuild("ws").block(TIMEOUT);
    }

    private AgentRow row(AgentId agentId) {
        return store.findRow(agentId).block(TIMEOUT);
    }

    private static LifecycleUpdate update(ChainId chain, long seq, LifecycleState state, Instant at) {
        return new LifecycleUpdate(chain, seq, state, at, false, null);
    }

    private LifecycleAck apply(AgentRow row, LifecycleUpdate update) {
        return service.apply(row.agentId(), update).block(TIMEOUT);
    }

    private void expectRefusal(AgentId agentId, LifecycleUpdate update, ErrorCode code, String message) {
        StepVerifier.create(service.apply(agentId, update))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOfSatisfying(AgentcoreException.class, e -> assertThat(e.code()).isEqualTo(code))
                        .hasMessageContaining(message))
                .verify(TIMEOUT);
    }

    @Test
    void startBuildCreatesARowAtCreatedAndRetiresThePreviousOne() {
        AgentRow first = build();
        clock.advance(Duration.ofMinutes(1));
        AgentRow second = build();

        assertThat(first.state()).isEqualTo(CREATED);
        assertThat(second.buildNumber()).isEqualTo(2);
        assertThat(second.createdAt()).isEqualTo(clock.instant());
        assertThat(row(first.agentId()).active()).isFalse();
        assertThat(row(second.agentId()).active()).isTrue();
    }

    @Test
    void appliesStartingThenReadyAndSetsTheTimestamps() {
        AgentRow row = build();
        Instant started = clock.advance(Duration.ofSeconds(1));
        apply(row, update(CHAIN, 1, STARTING, started));
        Instant ready = clock.advance(Duration.ofSeconds(3));
        LifecycleAck ack = apply(row, update(CHAIN, 2, READY, ready));

        assertThat(ack).isEqualTo(new LifecycleAck(CHAIN, 2, Outcome.APPLIED, READY));
        AgentRow stored = row(row.agentId());
        assertThat(stored.startedAt()).isEqualTo(started);
        assertThat(stored.readyAt()).isEqualTo(ready);
        assertThat(stored.version()).isEqualTo(row.version() + 2);
    }

    /** The store as another replica sees it: its recent picture of every row is the one it was given. */
    private LifecycleService serviceOnAStalePicture(Map<AgentId, AgentRow> picture) {
        AgentStore lagging = new ForwardingAgentStore(store) {
            @Override
            public Mono<AgentRow> recentRow(AgentId agentId) {
                return Mono.justOrEmpty(picture.get(agentId));
            }
        };
        return LifecycleService.builder(lagging).clock(clock).build();
    }

    @Test
    void aStalePictureOfTheRowNeverDecidesARefusal() {
        AgentRow created = build();
        apply(created, update(CHAIN, 1, STARTING, clock.instant()));
        // The picture still shows the row at CREATED: seq 2 looks like a gap in an unknown chain there.
        LifecycleService lagging = serviceOnAStalePicture(Map.of(created.agentId(), created));

        LifecycleAck ack = lagging.apply(created.agentId(), update(CHAIN, 2, READY, clock.instant().plusMillis(1)))
                .block(TIMEOUT);

        assertThat(ack).isEqualTo(new LifecycleAck(CHAIN, 2, Outcome.APPLIED, READY));
        assertThat(row(created.agentId()).lastSeq()).isEqualTo(2);
    }

    @Test
    void aStalePictureOfTheRowLosesItsCompareAndSetAndIsReadAgain() {
        AgentRow created = build();
        apply(created, update(CHAIN, 1, STARTING, clock.instant()));
        AgentRow picture = row(created.agentId());
        apply(created, update(CHAIN, 2, READY, clock.instant().plusMillis(1)));
        LifecycleService lagging = serviceOnAStalePicture(Map.of(created.agentId(), picture));

        LifecycleAck ack = lagging.apply(created.agentId(), update(CHAIN, 3, SHUTTING_DOWN, clock.instant().plusMillis(2)))
                .block(TIMEOUT);

        assertThat(ack.outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(row(created.agentId()).version()).isEqualTo(picture.version() + 2);
    }

    @Test
    void aRetiredRowIsFencedWhateverThePictureSays() {
        AgentRow created = build();
        build();
        LifecycleService lagging = serviceOnAStalePicture(Map.of(created.agentId(), created));

        StepVerifier.create(lagging.apply(created.agentId(), update(CHAIN, 1, STARTING, clock.instant())))
                .expectErrorSatisfies(error -> assertThat(((AgentcoreException) error).code()).isEqualTo(ErrorCode.FENCED))
                .verify(TIMEOUT);
        assertThat(row(created.agentId())).isEqualTo(created.retired());
    }

    @Test
    void appliedUpdatesAreAnnouncedWithTheirReplayFlagAndDuplicatesAreNot() {
        AgentRow row = build();
        Instant startedAt = clock.advance(Duration.ofSeconds(1));
        clock.advance(Duration.ofSeconds(1));
        LifecycleUpdate replayedReady = new LifecycleUpdate(CHAIN, 2, READY, startedAt.plusMillis(5), true, startedAt);

        StepVerifier.create(service.appliedUpdates().take(2))
                .then(() -> {
                    apply(row, update(CHAIN, 1, STARTING, startedAt));
                    apply(row, update(CHAIN, 1, STARTING, startedAt));
                    apply(row, replayedReady);
                })
                .assertNext(applied -> {
                    assertThat(applied.row().state()).isEqualTo(STARTING);
                    assertThat(applied.changedAt()).isEqualTo(startedAt);
                    assertThat(applied.replay()).isFalse();
                })
                .assertNext(applied -> {
                    assertThat(applied.row().state()).isEqualTo(READY);
                    assertThat(applied.row().agentId()).isEqualTo(row.agentId());
                    assertThat(applied.changedAt()).isEqualTo(startedAt.plusMillis(5));
                    assertThat(applied.replay()).isTrue();
                })
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void duplicatesAreAcknowledgedWithoutAWrite() {
        AgentRow row = build();
        apply(row, update(CHAIN, 1, STARTING, clock.instant()));
        apply(row, update(CHAIN, 2, READY, clock.instant().plusMillis(1)));
        long version = row(row.agentId()).version();

        LifecycleAck again = apply(row, update(CHAIN, 1, STARTING, clock.instant()));

        assertThat(again.outcome()).isEqualTo(Outcome.DUPLICATE);
        assertThat(again.rowState()).isEqualTo(READY);
        assertThat(row(row.agentId()).version()).isEqualTo(version);
        assertThat(meters.counter("agentcore.lifecycle.updates", "outcome", "duplicate").count()).isEqualTo(1);
        assertThat(meters.counter("agentcore.lifecycle.updates", "outcome", "applied").count()).isEqualTo(2);
    }

    @Test
    void retiredRowAnswersFenced() {
        AgentRow old = build();
        build();

        expectRefusal(old.agentId(), update(CHAIN, 1, STARTING, clock.instant()), ErrorCode.FENCED, "retired");
        assertThat(row(old.agentId()).state()).isEqualTo(CREATED);
    }

    @Test
    void unknownRowAnswersFenced() {
        expectRefusal(AgentId.of("no-such-row"), update(CHAIN, 1, STARTING, clock.instant()), ErrorCode.FENCED,
                "does not exist");
    }

    @Test
    void createdFromAnAgentIsAnInvalidArgument() {
        AgentRow row = build();
        expectRefusal(row.agentId(), new LifecycleUpdate(CHAIN, 1, CREATED, clock.instant(), false, null),
                ErrorCode.INVALID_ARGUMENT, "CREATED");
        expectRefusal(row.agentId(), update(CHAIN, 0, STARTING, clock.instant()), ErrorCode.INVALID_ARGUMENT, "seq");
    }

    @Test
    void backwardTransitionWithinAChainIsRefused() {
        AgentRow row = build();
        apply(row, update(CHAIN, 1, STARTING, clock.instant()));
        apply(row, update(CHAIN, 2, READY, clock.instant().plusMillis(1)));

        expectRefusal(row.agentId(), update(CHAIN, 3, STARTING, clock.instant().plusMillis(2)),
                ErrorCode.INVALID_TRANSITION, "cannot go from READY to STARTING");
        assertThat(row(row.agentId()).state()).isEqualTo(READY);
    }

    @Test
    void seqGapWithinAChainIsRefused() {
        AgentRow row = build();
        apply(row, update(CHAIN, 1, STARTING, clock.instant()));

        expectRefusal(row.agentId(), update(CHAIN, 3, SHUTTING_DOWN, clock.instant()), ErrorCode.INVALID_TRANSITION,
                "does not follow");
    }

    @Test
    void aNewChainIsAcceptedOnlyFromSeqOne() {
        AgentRow row = build();

        expectRefusal(row.agentId(), update(CHAIN, 2, READY, clock.instant()), ErrorCode.INVALID_TRANSITION,
                "must begin at seq 1");
        assertThat(apply(row, update(CHAIN, 1, STARTING, clock.instant())).outcome()).isEqualTo(Outcome.APPLIED);
        expectRefusal(row.agentId(), update(CHAIN.nextGeneration(), 2, READY, clock.instant()), ErrorCode.INVALID_TRANSITION,
                "must begin at seq 1");
    }

    @Test
    void aSecondProcessTakesTheRowAndTheFirstIsSupersededFromThenOn() {
        AgentRow row = build();
        ChainId first = new ChainId("process-a", 0);
        ChainId second = new ChainId("process-b", 0);
        apply(row, update(first, 1, STARTING, clock.instant()));
        apply(row, update(first, 2, READY, clock.instant()));

        assertThat(apply(row, update(second, 1, STARTING, clock.instant())).outcome()).isEqualTo(Outcome.APPLIED);

        // Whatever the first process sends now, new or re-sent, is refused: it must stop, not fight.
        expectRefusal(row.agentId(), update(first, 3, SHUTTING_DOWN, clock.instant()), ErrorCode.SUPERSEDED,
                "is reported by another agent process (chain process-b/0)");
        expectRefusal(row.agentId(), update(first, 2, READY, clock.instant()), ErrorCode.SUPERSEDED, "stop reporting");
        assertThat(apply(row, update(second, 2, READY, clock.instant())).outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(row(row.agentId()).lastChain()).isEqualTo(second);
        assertThat(meters.counter("agentcore.lifecycle.refused", "code", "SUPERSEDED").count()).isEqualTo(2);
    }

    @Test
    void anOlderGenerationOfTheSameProcessIsRefused() {
        AgentRow row = build();
        apply(row, update(CHAIN.nextGeneration(), 1, STARTING, clock.instant()));

        expectRefusal(row.agentId(), update(CHAIN, 1, STARTING, clock.instant()), ErrorCode.INVALID_TRANSITION,
                "older generation");
    }

    @Test
    void timestampsAreClampedIntoTheRowsLifetimeAndCounted() {
        AgentRow row = build();
        apply(row, update(CHAIN, 1, STARTING, row.createdAt().minus(Duration.ofHours(1))));
        assertThat(row(row.agentId()).startedAt()).isEqualTo(row.createdAt());

        clock.advance(Duration.ofSeconds(10));
        apply(row, update(CHAIN, 2, READY, clock.instant().plus(Duration.ofDays(1))));
        assertThat(row(row.agentId()).readyAt()).isEqualTo(clock.instant());

        apply(row, update(CHAIN, 3, SHUTTING_DOWN, null));
        assertThat(meters.counter("agentcore.lifecycle.clamped", "reason", "before_created").count()).isEqualTo(1);
        assertThat(meters.counter("agentcore.lifecycle.clamped", "reason", "future").count()).isEqualTo(1);
        assertThat(meters.counter("agentcore.lifecycle.clamped", "reason", "missing").count()).isEqualTo(1);
    }

    @Test
    void nothingIsStoredInTheFutureAndReadyIsAlwaysAfterStarted() {
        AgentRow row = build();
        // An agent 30 s ahead, with nothing to correct its clock: both times clamped to now.
        Instant now = clock.advance(Duration.ofSeconds(2));
        apply(row, update(CHAIN, 1, STARTING, now.plusSeconds(30)));
        apply(row, update(CHAIN, 2, READY, now.plusSeconds(33)));

        AgentRow stored = row(row.agentId());
        assertThat(stored.startedAt()).isEqualTo(now);
        assertThat(stored.readyAt()).isEqualTo(now.plusMillis(1));

        // An agent an hour behind: both clamped to created_at, ready_at still after started_at.
        AgentRow next = build();
        apply(next, update(CHAIN, 1, STARTING, next.createdAt().minus(Duration.ofHours(1))));
        apply(next, update(CHAIN, 2, READY, next.createdAt().minus(Duration.ofMinutes(59))));
        AgentRow behind = row(next.agentId());
        assertThat(behind.startedAt()).isEqualTo(next.createdAt());
        assertThat(behind.readyAt()).isEqualTo(next.createdAt().plusMillis(1));
    }

    @Test
    void startingOfANewChainClearsReadyAt() {
        AgentRow row = build();
        apply(row, update(CHAIN, 1, STARTING, clock.instant()));
        apply(row, update(CHAIN, 2, READY, clock.instant().plusMillis(5)));
        Instant restart = clock.advance(Duration.ofMinutes(1));

        apply(row, update(new ChainId("incarnation-2", 0), 1, STARTING, restart));

        AgentRow stored = row(row.agentId());
        assertThat(stored.state()).isEqualTo(STARTING);
        assertThat(stored.startedAt()).isEqualTo(restart);
        assertThat(stored.readyAt()).isNull();
    }

    @Test
    void buildDurationIsRecordedOncePerRowAndTaggedForReplays() {
        AgentRow row = build();
        Instant start = clock.advance(Duration.ofSeconds(2));
        service.apply(row.agentId(), new LifecycleUpdate(CHAIN, 1, STARTING, start, true, start)).block(TIMEOUT);
        // Each update arrives when it happened: a time ahead of the control plane's now would be clamped.
        clock.advance(Duration.ofSeconds(3));
        service.apply(row.agentId(), new LifecycleUpdate(CHAIN, 2, READY, start.plusSeconds(3), true, start))
                .block(TIMEOUT);
        // A restarted process on the same row reaches READY again: no second measurement.
        ChainId restarted = new ChainId("incarnation-2", 0);
        clock.advance(Duration.ofSeconds(2));
        apply(row, update(restarted, 1, STARTING, start.plusSeconds(4)));
        apply(row, update(restarted, 2, READY, start.plusSeconds(5)));

        Timer replayed = meters.find("agentcore.build.duration").tag("replay", "true").tag("outcome", "READY").timer();
        assertThat(replayed).isNotNull();
        assertThat(replayed.count()).isEqualTo(1);
        assertThat(replayed.totalTime(java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(5.0);
        assertThat(meters.find("agentcore.build.duration").timers()).hasSize(1);
    }

    @Test
    void concurrentWritesOfOneUpdateApplyItOnceAndBumpTheVersionOnce() throws Exception {
        AgentRow row = build();
        LifecycleUpdate starting = update(CHAIN, 1, STARTING, clock.instant());
        List<Callable<LifecycleAck>> writers = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            writers.add(() -> service.apply(row.agentId(), starting).block(TIMEOUT));
        }

        List<Outcome> outcomes = new ArrayList<>();
        for (Future<LifecycleAck> result : pool.invokeAll(writers)) {
            outcomes.add(result.get().outcome());
        }

        assertThat(outcomes).filteredOn(Outcome.APPLIED::equals).hasSize(1);
        assertThat(row(row.agentId()).version()).isEqualTo(row.version() + 1);
    }

    @Test
    void watchStartsWithTheLatestRowThenFollowsChangesAndTheNextBuild() {
        AgentRow first = build();

        StepVerifier.create(service.watch("ws"))
                .assertNext(row -> assertThat(row.agentId()).isEqualTo(first.agentId()))
                .then(() -> apply(first, update(CHAIN, 1, STARTING, clock.instant())))
                .assertNext(row -> assertThat(row.state()).isEqualTo(STARTING))
                .then(this::build)
                .assertNext(row -> assertThat(row).matches(r -> r.agentId().equals(first.agentId()) && !r.active()))
                .assertNext(row -> assertThat(row.buildNumber()).isEqualTo(2))
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void watchOfAWorkspaceWithoutBuildsWaitsForTheFirst() {
        StepVerifier.create(service.watch("empty"))
                .expectSubscription()
                .then(() -> service.startBuild("empty").block(TIMEOUT))
                .assertNext(row -> assertThat(row.workspace()).isEqualTo("empty"))
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void stopBuildRetiresTheActiveRow() {
        AgentRow row = build();

        StepVerifier.create(service.stopBuild("ws"))
                .assertNext(retired -> assertThat(retired.active()).isFalse())
                .verifyComplete();
        StepVerifier.create(service.stopBuild("ws")).verifyComplete();
        expectRefusal(row.agentId(), update(CHAIN, 1, STARTING, clock.instant()), ErrorCode.FENCED, "retired");
    }
}
