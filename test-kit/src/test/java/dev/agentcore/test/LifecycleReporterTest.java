package dev.agentcore.test;

import static dev.agentcore.core.LifecycleState.READY;
import static dev.agentcore.core.LifecycleState.SHUTTING_DOWN;
import static dev.agentcore.core.LifecycleState.STARTING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.Script;
import dev.agentcore.core.agent.AgentChangePolicy;
import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent.ManifestComparison;
import dev.agentcore.core.agent.ReporterEvent.ReinitializationRequested;
import dev.agentcore.core.agent.ReporterEvent.Resumption;
import dev.agentcore.core.agent.ReporterEvent.SessionEnded;
import dev.agentcore.core.agent.ReporterEvent.SessionStarted;
import dev.agentcore.core.agent.ReporterEvent.UpdateRefused;
import dev.agentcore.core.agent.ReporterEvent.UpdateSent;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class LifecycleReporterTest {

    private static final ChainId CHAIN = new ChainId("incarnation-1", 0);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final MutableClock clock = MutableClock.at("2026-01-01T10:00:00Z");
    private final TestControlPlane controlPlane = TestControlPlane.create(clock);
    private final TestConnector connector = controlPlane.connector();
    private final List<ReporterEvent> events = new CopyOnWriteArrayList<>();
    private final List<Disposable> reporters = new CopyOnWriteArrayList<>();

    private Lifecycle lifecycle = Lifecycle.create(clock, CHAIN);

    private Disposable run(LifecycleReporter reporter) {
        return reporter.report(connector.sessions()).subscribe(events::add);
    }

    private Disposable runReplaying() {
        return run(LifecycleReporter.builder(lifecycle).clock(clock).build());
    }

    private TestSession connect(AgentRow row) {
        TestSession session = controlPlane.session(row);
        connector.connect(session);
        return session;
    }

    private void readyOn(AgentRow row) {
        connect(row);
        clock.advance(Duration.ofSeconds(1));
        lifecycle.transitionTo(STARTING);
        clock.advance(Duration.ofSeconds(3));
        lifecycle.transitionTo(READY);
    }

    @Test
    void firstSessionSendsTransitionsWithTheirOwnTimestamps() {
        AgentRow rowA = controlPlane.startBuild("ws");
        clock.advance(Duration.ofSeconds(1));
        LifecycleState starting = lifecycle.transitionTo(STARTING).state();
        Instant startedAt = lifecycle.current().changedAt();
        runReplaying();

        connect(rowA);

        assertThat(controlPlane.appliedTo(rowA.agentId()))
                .containsExactly(new LifecycleUpdate(CHAIN, 1, starting, startedAt, false, null));
        assertThat(controlPlane.row(rowA.agentId()).startedAt()).isEqualTo(startedAt);
    }

    @Test
    void buildBoundaryReplaysTheChainOntoTheNewRowWithRefreshedTimestamps() {
        AgentRow rowA = controlPlane.startBuild("ws");
        runReplaying();
        readyOn(rowA);
        AgentRow readyA = controlPlane.row(rowA.agentId());

        // The VM is suspended; a new build creates row B and retires A; the VM resumes.
        clock.advance(Duration.ofHours(2));
        AgentRow rowB = controlPlane.startBuild("ws");
        clock.advance(Duration.ofSeconds(5));
        Instant resumedAt = clock.instant();
        connect(rowB);

        List<LifecycleUpdate> onB = controlPlane.appliedTo(rowB.agentId());
        assertThat(onB).extracting(LifecycleUpdate::state).containsExactly(STARTING, READY);
        assertThat(onB).allMatch(LifecycleUpdate::replay);
        assertThat(onB).extracting(LifecycleUpdate::changedAt)
                .containsExactly(resumedAt, resumedAt.plusMillis(1));
        assertThat(onB).extracting(LifecycleUpdate::originalChangedAt)
                .containsExactly(readyA.startedAt(), readyA.readyAt());

        AgentRow b = controlPlane.row(rowB.agentId());
        assertThat(b.state()).isEqualTo(READY);
        assertThat(b.startedAt()).isAfter(b.createdAt()).isBefore(b.readyAt());
        AgentRow a = controlPlane.row(rowA.agentId());
        assertThat(a.active()).isFalse();
        assertThat(a.version()).isEqualTo(readyA.version() + 1); // retired, nothing else
        assertThat(controlPlane.appliedTo(rowA.agentId())).hasSize(2);
        assertThat(events).filteredOn(SessionStarted.class::isInstance).map(e -> ((SessionStarted) e).resumption())
                .containsExactly(Resumption.FIRST, Resumption.REPLAY);
    }

    @Test
    void sameAgentReconnectResendsNothingAlreadyAcknowledged() {
        AgentRow rowA = controlPlane.startBuild("ws");
        runReplaying();
        TestSession first = connect(rowA);
        lifecycle.transitionTo(STARTING);
        lifecycle.transitionTo(READY);
        first.cut();

        TestSession second = connect(rowA);
        assertThat(second.updates()).isEmpty();
        lifecycle.transitionTo(SHUTTING_DOWN);

        assertThat(second.updates()).extracting(LifecycleUpdate::seq).containsExactly(3L);
        assertThat(controlPlane.appliedTo(rowA.agentId())).extracting(LifecycleUpdate::state)
                .containsExactly(STARTING, READY, SHUTTING_DOWN);
        assertThat(events).filteredOn(SessionEnded.class::isInstance).hasSize(1);
    }

    @Test
    void sendFailingMidReplayIsResumedOnTheSameRowWithoutANewTransition() {
        AgentRow rowA = controlPlane.startBuild("ws");
        runReplaying();
        readyOn(rowA);
        clock.advance(Duration.ofMinutes(30));
        AgentRow rowB = controlPlane.startBuild("ws");

        // The replay's second update (READY) breaks the connection before the control plane sees it.
        TestSession broken = controlPlane.session(rowB).failAt(1, false);
        connector.connect(broken);
        assertThat(controlPlane.row(rowB.agentId()).state()).isEqualTo(STARTING);

        clock.advance(Duration.ofSeconds(2));
        TestSession again = connect(rowB);

        assertThat(again.updates()).extracting(LifecycleUpdate::state).containsExactly(READY);
        assertThat(again.updates()).allMatch(LifecycleUpdate::replay);
        AgentRow b = controlPlane.row(rowB.agentId());
        assertThat(b.state()).isEqualTo(READY);
        assertThat(b.startedAt()).isBefore(b.readyAt());
        assertThat(controlPlane.appliedTo(rowB.agentId())).extracting(LifecycleUpdate::seq).containsExactly(1L, 2L);
    }

    @Test
    void updateAppliedButNotAcknowledgedIsResentAndTakenAsADuplicate() {
        AgentRow rowA = controlPlane.startBuild("ws");
        runReplaying();
        connector.connect(controlPlane.session(rowA).failAt(0, true));
        lifecycle.transitionTo(STARTING);
        assertThat(controlPlane.row(rowA.agentId()).state()).isEqualTo(STARTING);

        TestSession again = connect(rowA);
        lifecycle.transitionTo(READY);

        assertThat(again.updates()).extracting(LifecycleUpdate::seq).containsExactly(1L, 2L);
        assertThat(controlPlane.appliedTo(rowA.agentId())).extracting(LifecycleUpdate::seq).containsExactly(1L, 2L);
        assertThat(controlPlane.row(rowA.agentId()).state()).isEqualTo(READY);
    }

    @Test
    void twoBuildBoundariesWhileSuspendedReplayOntoTheLatestRow() {
        AgentRow rowA = controlPlane.startBuild("ws");
        runReplaying();
        readyOn(rowA);
        clock.advance(Duration.ofHours(1));
        AgentRow rowB = controlPlane.startBuild("ws");
        clock.advance(Duration.ofHours(1));
        AgentRow rowC = controlPlane.startBuild("ws");
        clock.advance(Duration.ofMinutes(1));

        connect(rowC);

        assertThat(controlPlane.row(rowB.agentId())).satisfies(b -> {
            assertThat(b.active()).isFalse();
            assertThat(b.state()).isEqualTo(LifecycleState.CREATED);
        });
        AgentRow c = controlPlane.row(rowC.agentId());
        assertThat(c.state()).isEqualTo(READY);
        assertThat(c.startedAt()).isAfter(c.createdAt()).isBefore(c.readyAt());
    }

    @Test
    void buildBoundaryRightAfterAFailedSessionStillReplaysEverything() {
        AgentRow rowA = controlPlane.startBuild("ws");
        runReplaying();
        readyOn(rowA);
        AgentRow rowB = controlPlane.startBuild("ws");
        connector.connect(controlPlane.session(rowB).failAt(0, false));
        AgentRow rowC = controlPlane.startBuild("ws");

        connect(rowC);

        assertThat(controlPlane.appliedTo(rowB.agentId())).isEmpty();
        assertThat(controlPlane.appliedTo(rowC.agentId())).extracting(LifecycleUpdate::state).containsExactly(STARTING, READY);
    }

    @Test
    void liveTransitionDuringAReplayKeepsChangedAtStrictlyIncreasing() {
        AgentRow rowA = controlPlane.startBuild("ws");
        runReplaying();
        readyOn(rowA);
        clock.advance(Duration.ofHours(1));
        AgentRow rowB = controlPlane.startBuild("ws");
        TestSession held = controlPlane.session(rowB).hold();
        connector.connect(held);

        // The replay is in flight (nothing delivered yet) when the agent starts shutting down,
        // in the same millisecond as the replay's first refreshed timestamp.
        lifecycle.transitionTo(SHUTTING_DOWN);
        held.release();

        List<LifecycleUpdate> onB = controlPlane.appliedTo(rowB.agentId());
        assertThat(onB).extracting(LifecycleUpdate::state).containsExactly(STARTING, READY, SHUTTING_DOWN);
        assertThat(onB).extracting(LifecycleUpdate::replay).containsExactly(true, true, false);
        assertThat(onB).extracting(LifecycleUpdate::changedAt).isSortedAccordingTo(Instant::compareTo)
                .doesNotHaveDuplicates();
        Instant now = clock.instant();
        assertThat(onB.get(2).changedAt()).isEqualTo(now.plusMillis(2));
    }

    @Test
    void reinitializePolicyRequestsReinitializationAndReportsTheNewGenerationFromSeqOne() {
        LifecycleReporter reporter = LifecycleReporter.builder(lifecycle).clock(clock)
                .onAgentChange(AgentChangePolicy.REINITIALIZE).build();
        AgentRow rowA = controlPlane.startBuild("ws");
        run(reporter);
        readyOn(rowA);
        AgentRow rowB = controlPlane.startBuild("ws");

        connect(rowB);
        assertThat(events).filteredOn(ReinitializationRequested.class::isInstance)
                .map(event -> ((ReinitializationRequested) event).request()).singleElement().satisfies(request -> {
            assertThat(request.previousAgentId()).isEqualTo(rowA.agentId());
            assertThat(request.manifest().agentId()).isEqualTo(rowB.agentId());
        });
        assertThat(controlPlane.appliedTo(rowB.agentId())).isEmpty();

        // The runtime reacts: a new generation walks through startup again.
        lifecycle.reinitialize();
        lifecycle.transitionTo(STARTING);
        lifecycle.transitionTo(READY);

        List<LifecycleUpdate> onB = controlPlane.appliedTo(rowB.agentId());
        assertThat(onB).extracting(LifecycleUpdate::seq).containsExactly(1L, 2L);
        assertThat(onB).allSatisfy(update -> {
            assertThat(update.chain()).isEqualTo(CHAIN.nextGeneration());
            assertThat(update.replay()).isFalse();
        });
        assertThat(controlPlane.row(rowB.agentId()).state()).isEqualTo(READY);
        assertThat(events).filteredOn(ReinitializationRequested.class::isInstance).hasSize(1);
    }

    private static final List<Script> SCRIPTS = List.of(new Script("make up", Duration.ofMinutes(5), true));
    private static final List<Script> CHANGED_SCRIPTS = List.of(new Script("make up && make seed", Duration.ofMinutes(5), true));

    /**
     * The reporter with AUTO, running from now on until the test ends (a verifier that cancels does
     * not stop it): what it publishes about sessions and reinitializations, every one kept for
     * whoever subscribes.
     */
    private Flux<ReporterEvent> sessionsUnderAuto() {
        return LifecycleReporter.builder(lifecycle).clock(clock).onAgentChange(AgentChangePolicy.AUTO).build()
                .report(connector.sessions())
                .doOnNext(events::add)
                .filter(event -> event instanceof SessionStarted || event instanceof ReinitializationRequested)
                .replay()
                .autoConnect(0, reporters::add);
    }

    @AfterEach
    void stopReporters() {
        reporters.forEach(Disposable::dispose);
    }

    private TestSession connect(AgentRow row, List<Script> startupScripts) {
        TestSession session = controlPlane.session(row).withScripts(startupScripts, List.of());
        connector.connect(session);
        return session;
    }

    private void startAndReady() {
        clock.advance(Duration.ofSeconds(1));
        lifecycle.transitionTo(STARTING);
        clock.advance(Duration.ofSeconds(3));
        lifecycle.transitionTo(READY);
    }

    private static void started(ReporterEvent event, AgentRow row, Resumption resumption, ManifestComparison comparison) {
        assertThat(event).isInstanceOfSatisfying(SessionStarted.class, started -> {
            assertThat(started.manifest().agentId()).isEqualTo(row.agentId());
            assertThat(started.resumption()).isEqualTo(resumption);
            assertThat(started.comparison()).isEqualTo(comparison);
        });
    }

    private static void reinitializationRequested(ReporterEvent event, AgentRow from, AgentRow to) {
        assertThat(event).isInstanceOfSatisfying(ReinitializationRequested.class, requested -> {
            assertThat(requested.request().previousAgentId()).isEqualTo(from.agentId());
            assertThat(requested.request().manifest().agentId()).isEqualTo(to.agentId());
        });
    }

    @Test
    void autoReplaysOntoANewRowWhoseManifestRunsTheSameScripts() {
        AgentRow rowA = controlPlane.startBuild("ws");
        AtomicReference<AgentRow> rowB = new AtomicReference<>();

        readyUnderAutoOn(rowA)
                .then(() -> connect(newBuild(rowB), List.copyOf(SCRIPTS)))
                .assertNext(event -> started(event, rowB.get(), Resumption.REPLAY, ManifestComparison.SAME))
                .thenCancel()
                .verify(TIMEOUT);

        List<LifecycleUpdate> onB = controlPlane.appliedTo(rowB.get().agentId());
        assertThat(onB).extracting(LifecycleUpdate::state).containsExactly(STARTING, READY);
        assertThat(onB).allMatch(LifecycleUpdate::replay);
        assertThat(controlPlane.row(rowB.get().agentId()).state()).isEqualTo(READY);
    }

    /** The reporter under AUTO, verified from its first session: on {@code row}, whose startup ran to READY. */
    private StepVerifier.Step<ReporterEvent> readyUnderAutoOn(AgentRow row) {
        return StepVerifier.create(sessionsUnderAuto())
                .then(() -> {
                    connect(row, SCRIPTS);
                    startAndReady();
                })
                .assertNext(event -> started(event, row, Resumption.FIRST, ManifestComparison.NOT_COMPARED));
    }

    /** Starts the next build of "ws" and keeps its row in {@code row}. */
    private AgentRow newBuild(AtomicReference<AgentRow> row) {
        row.set(controlPlane.startBuild("ws"));
        return row.get();
    }

    @Test
    void autoReinitializesOnANewRowWhoseScriptsChanged() {
        AgentRow rowA = controlPlane.startBuild("ws");
        AtomicReference<AgentRow> rowB = new AtomicReference<>();

        readyUnderAutoOn(rowA)
                .then(() -> connect(newBuild(rowB), CHANGED_SCRIPTS))
                .assertNext(event -> started(event, rowB.get(), Resumption.REINITIALIZE, ManifestComparison.CHANGED))
                .assertNext(event -> reinitializationRequested(event, rowA, rowB.get()))
                .thenCancel()
                .verify(TIMEOUT);

        AgentId onB = rowB.get().agentId();
        assertThat(controlPlane.appliedTo(onB)).as("nothing replayed").isEmpty();
        lifecycle.reinitialize();
        startAndReady();
        assertThat(controlPlane.appliedTo(onB)).allSatisfy(update -> {
            assertThat(update.chain()).isEqualTo(CHAIN.nextGeneration());
            assertThat(update.replay()).isFalse();
        }).extracting(LifecycleUpdate::seq).containsExactly(1L, 2L);
        assertThat(controlPlane.row(onB).state()).isEqualTo(READY);
    }

    @Test
    void aChangedManifestArrivingWhileAReplayIsInFlightReinitializesAndTheReplayGoesNowhere() {
        AgentRow rowA = controlPlane.startBuild("ws");
        AtomicReference<AgentRow> rowB = new AtomicReference<>();
        AtomicReference<AgentRow> rowC = new AtomicReference<>();
        AtomicReference<TestSession> held = new AtomicReference<>();

        readyUnderAutoOn(rowA)
                // The replay onto B is sent and held on its way: nothing delivered yet.
                .then(() -> connector.connect(held.updateAndGet(none -> controlPlane.session(newBuild(rowB))
                        .withScripts(SCRIPTS, List.of()).hold())))
                .assertNext(event -> started(event, rowB.get(), Resumption.REPLAY, ManifestComparison.SAME))
                .then(() -> connect(newBuild(rowC), CHANGED_SCRIPTS))
                .assertNext(event -> started(event, rowC.get(), Resumption.REINITIALIZE, ManifestComparison.CHANGED))
                .assertNext(event -> reinitializationRequested(event, rowB.get(), rowC.get()))
                .then(() -> held.get().release())
                .thenCancel()
                .verify(TIMEOUT);

        assertThat(controlPlane.appliedTo(rowB.get().agentId())).as("B was retired before its replay arrived").isEmpty();
        assertThat(controlPlane.appliedTo(rowC.get().agentId())).as("the old chain, never replayed onto C").isEmpty();
        lifecycle.reinitialize();
        startAndReady();
        assertThat(controlPlane.appliedTo(rowC.get().agentId()))
                .allMatch(update -> !update.replay() && update.chain().equals(CHAIN.nextGeneration()))
                .extracting(LifecycleUpdate::state).containsExactly(STARTING, READY);
    }

    @Test
    void aRowWithTheChangedScriptsArrivingBeforeTheRequestedReinitializationBeganGetsItsGenerationNotTheOldChain() {
        AgentRow rowA = controlPlane.startBuild("ws");
        AtomicReference<AgentRow> rowB = new AtomicReference<>();
        AtomicReference<AgentRow> rowC = new AtomicReference<>();

        readyUnderAutoOn(rowA)
                .then(() -> connect(newBuild(rowB), CHANGED_SCRIPTS))
                .assertNext(event -> started(event, rowB.get(), Resumption.REINITIALIZE, ManifestComparison.CHANGED))
                .assertNext(event -> reinitializationRequested(event, rowA, rowB.get()))
                // The runtime has not begun the new generation when C, with B's scripts, arrives.
                .then(() -> connect(newBuild(rowC), CHANGED_SCRIPTS))
                .assertNext(event -> started(event, rowC.get(), Resumption.REINITIALIZE, ManifestComparison.SAME))
                .then(() -> {
                    lifecycle.reinitialize();
                    startAndReady();
                })
                .thenCancel()
                .verify(TIMEOUT);

        assertThat(events).as("no second request: the one under way runs these scripts")
                .filteredOn(ReinitializationRequested.class::isInstance).hasSize(1);
        List<LifecycleUpdate> onC = controlPlane.appliedTo(rowC.get().agentId());
        assertThat(onC).as("the old generation's READY, which ran other scripts, never reaches C")
                .allMatch(update -> !update.replay() && update.chain().equals(CHAIN.nextGeneration()))
                .extracting(LifecycleUpdate::state).containsExactly(STARTING, READY);
        assertThat(controlPlane.row(rowC.get().agentId()).state()).isEqualTo(READY);
    }

    @Test
    void restartedAgentProcessOnTheSameRowGoesThroughStartingAgain() {
        AgentRow rowA = controlPlane.startBuild("ws");
        Disposable first = runReplaying();
        readyOn(rowA);
        Instant firstReady = controlPlane.row(rowA.agentId()).readyAt();
        first.dispose();

        // A new process: a new incarnation whose seqs start at 1 again.
        clock.advance(Duration.ofMinutes(1));
        lifecycle = Lifecycle.create(clock, new ChainId("incarnation-2", 0));
        TestConnector newProcess = controlPlane.connector();
        LifecycleReporter.builder(lifecycle).clock(clock).build().report(newProcess.sessions()).subscribe();
        newProcess.connect(rowA);
        lifecycle.transitionTo(STARTING);
        AgentRow starting = controlPlane.row(rowA.agentId());
        assertThat(starting.state()).isEqualTo(STARTING);
        assertThat(starting.readyAt()).isNull();

        clock.advance(Duration.ofSeconds(2));
        lifecycle.transitionTo(READY);
        AgentRow ready = controlPlane.row(rowA.agentId());
        assertThat(ready.state()).isEqualTo(READY);
        assertThat(ready.startedAt()).isAfter(firstReady).isBefore(ready.readyAt());
        assertThat(controlPlane.appliedTo(rowA.agentId())).hasSize(4);
    }

    @RepeatedTest(200)
    void transitionRacingWithAReconnectToANewAgentIsNeitherLostNorReordered() throws Exception {
        AgentRow rowA = controlPlane.startBuild("ws");
        runReplaying();
        readyOn(rowA);
        AgentRow rowB = controlPlane.startBuild("ws");
        TestSession sessionB = controlPlane.session(rowB);

        CyclicBarrier start = new CyclicBarrier(2);
        Thread shutdown = new Thread(() -> {
            await(start);
            lifecycle.transitionTo(SHUTTING_DOWN);
        });
        Thread reconnect = new Thread(() -> {
            await(start);
            connector.connect(sessionB);
        });
        shutdown.start();
        reconnect.start();
        shutdown.join(TimeUnit.SECONDS.toMillis(10));
        reconnect.join(TimeUnit.SECONDS.toMillis(10));

        StepVerifier.create(controlPlane.service().watch("ws").filter(row -> row.state() == SHUTTING_DOWN).take(1))
                .expectNextCount(1)
                .expectComplete()
                .verify(Duration.ofSeconds(10));
        List<LifecycleUpdate> onB = controlPlane.appliedTo(rowB.agentId());
        assertThat(onB).extracting(LifecycleUpdate::state).containsExactly(STARTING, READY, SHUTTING_DOWN);
        assertThat(onB).extracting(LifecycleUpdate::changedAt).isSortedAccordingTo(Instant::compareTo)
                .doesNotHaveDuplicates();
        assertThat(controlPlane.appliedTo(rowA.agentId())).extracting(LifecycleUpdate::state)
                .doesNotContain(SHUTTING_DOWN);
    }

    @Test
    void completesOnceTheSessionsCompleteAndTheLastSessionEnds() {
        AgentRow rowA = controlPlane.startBuild("ws");
        LifecycleReporter reporter = LifecycleReporter.builder(lifecycle).clock(clock).build();
        TestSession session = controlPlane.session(rowA);

        StepVerifier.create(reporter.report(connector.sessions().publishOn(Schedulers.parallel())))
                .then(() -> connector.connect(session))
                .expectNextMatches(event -> event instanceof SessionStarted started
                        && started.resumption() == Resumption.FIRST)
                .then(() -> lifecycle.transitionTo(STARTING))
                .expectNextMatches(event -> event instanceof UpdateSent sent && sent.update().state() == STARTING)
                .expectNextMatches(event -> event instanceof ReporterEvent.UpdateAcknowledged)
                .then(connector::giveUp)
                .expectNoEvent(Duration.ofMillis(50))
                .then(session::cut)
                .expectNextMatches(event -> event instanceof SessionEnded ended && ended.error().isEmpty())
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void aSecondProcessOnTheSameRowEndsThisReporterWithSuperseded() {
        AgentRow row = controlPlane.startBuild("ws");
        List<Throwable> failure = new CopyOnWriteArrayList<>();
        LifecycleReporter.builder(lifecycle).clock(clock).build().report(connector.sessions())
                .subscribe(events::add, failure::add);
        connect(row);
        lifecycle.transitionTo(STARTING);

        // Another process with the same identity starts its own chain on the row.
        controlPlane.service().apply(row.agentId(), new LifecycleUpdate(new ChainId("another-process", 0), 1, STARTING,
                clock.instant(), false, null)).block(Duration.ofSeconds(5));
        lifecycle.transitionTo(READY);

        assertThat(failure).singleElement().isInstanceOfSatisfying(AgentcoreException.class,
                refusal -> assertThat(refusal.code()).isEqualTo(ErrorCode.SUPERSEDED));
        assertThat(events).filteredOn(UpdateRefused.class::isInstance).singleElement()
                .satisfies(event -> assertThat(((UpdateRefused) event).inARow()).isEqualTo(1));
        // Nothing more is sent: the other process keeps the row.
        connect(row);
        assertThat(controlPlane.row(row.agentId()).lastChain()).isEqualTo(new ChainId("another-process", 0));
    }

    @Test
    void refusalsThatRetryingCannotFixAreCountedInARowUntilAnUpdateIsAcknowledged() {
        AgentRow row = controlPlane.startBuild("ws");
        runReplaying();
        lifecycle.transitionTo(STARTING);
        for (int attempt = 0; attempt < 3; attempt++) {
            connector.connect(controlPlane.session(row).refuseAt(0, ErrorCode.INVALID_TRANSITION));
        }
        assertThat(events).filteredOn(UpdateRefused.class::isInstance).map(event -> ((UpdateRefused) event).inARow())
                .containsExactly(1, 2, 3);

        connect(row); // acknowledged: progress
        lifecycle.transitionTo(READY);
        connector.connect(controlPlane.session(row).refuseAt(0, ErrorCode.INVALID_TRANSITION));
        lifecycle.transitionTo(SHUTTING_DOWN);

        assertThat(events).filteredOn(UpdateRefused.class::isInstance).map(event -> ((UpdateRefused) event).inARow())
                .containsExactly(1, 2, 3, 1);
        assertThat(events).filteredOn(UpdateRefused.class::isInstance)
                .allSatisfy(event -> assertThat(((UpdateRefused) event).refusal().code())
                        .isEqualTo(ErrorCode.INVALID_TRANSITION));
    }

    @Test
    void secondConcurrentRunOfOneReporterIsRefused() {
        LifecycleReporter reporter = LifecycleReporter.builder(lifecycle).clock(clock).build();
        Disposable running = reporter.report(connector.sessions()).subscribe();

        StepVerifier.create(reporter.report(Sinks.many().unicast().<AgentSession>onBackpressureBuffer().asFlux()))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("already running"))
                .verify(Duration.ofSeconds(5));
        running.dispose();
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
