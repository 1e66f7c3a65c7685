package dev.agentcore.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent.Resumption;
import dev.agentcore.core.agent.ReporterEvent.SessionStarted;
import dev.agentcore.core.agent.ReporterEvent.UpdateAcknowledged;
import dev.agentcore.core.agent.ReporterEvent.UpdateRefused;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.testing.ReadmeSnippets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The kit as a user drives it: a runtime's reporting under StepVerifier and virtual time, no sockets. */
class TestKitTest {

    private static final Instant START = Instant.parse("2026-01-01T10:00:00Z");
    private static final Duration PATIENCE = Duration.ofSeconds(10);

    private final VirtualTimeScheduler scheduler = VirtualTimeScheduler.create();
    private final Clock clock = SchedulerClock.of(scheduler, START);
    private final TestControlPlane controlPlane = TestControlPlane.create(clock);
    private final TestConnector connector = controlPlane.connector();
    private final Lifecycle lifecycle = Lifecycle.create(clock, new ChainId("incarnation-1", 0));
    private final LifecycleReporter reporter = LifecycleReporter.builder(lifecycle).clock(clock).build();

    @Test
    void aBuildBoundaryUnderVirtualTimeReplaysTheChainOntoTheNewRow() {
        // README-BEGIN kit
        AgentRow first = controlPlane.startBuild("my-workspace");
        StepVerifier.withVirtualTime(() -> reporter.report(connector.sessions()).ofType(UpdateAcknowledged.class),
                        () -> scheduler, Long.MAX_VALUE)
                .then(() -> connector.connect(controlPlane.session(first).acknowledgeAfter(Duration.ofSeconds(2))))
                .then(() -> lifecycle.transitionTo(LifecycleState.STARTING))
                .expectNoEvent(Duration.ofSeconds(1))                  // the ack takes 2 s of virtual time
                .thenAwait(Duration.ofSeconds(1))
                .assertNext(acked -> assertThat(acked.ack().rowState()).isEqualTo(LifecycleState.STARTING))
                .then(() -> lifecycle.transitionTo(LifecycleState.READY))
                .thenAwait(Duration.ofSeconds(2))
                .expectNextCount(1)
                .then(() -> connector.connect(controlPlane.startBuild("my-workspace")))   // a new build: a new row
                .expectNextCount(2)                                    // STARTING and READY, replayed onto it
                .thenCancel()
                .verify(PATIENCE);
        AgentRow second = controlPlane.latestRow("my-workspace");
        assertThat(second.state()).isEqualTo(LifecycleState.READY);
        assertThat(controlPlane.appliedTo(second.agentId())).allMatch(LifecycleUpdate::replay);
        // README-END kit
        assertThat(second.agentId()).isNotEqualTo(first.agentId());
        assertThat(controlPlane.appliedTo(second.agentId())).extracting(LifecycleUpdate::state)
                .containsExactly(LifecycleState.STARTING, LifecycleState.READY);
        assertThat(controlPlane.row(first.agentId()).readyAt()).as("READY 2 s after STARTING, in virtual time")
                .isEqualTo(START.plusSeconds(2));
    }

    @Test
    void aRefusedUpdateEndsTheSessionWithItsCodeAndNothingIsApplied() {
        AgentRow row = controlPlane.startBuild("ws");

        StepVerifier.create(reporter.report(connector.sessions()).ofType(UpdateRefused.class))
                .then(() -> connector.connect(controlPlane.session(row).refuseAt(0, ErrorCode.INVALID_ARGUMENT)))
                .then(() -> lifecycle.transitionTo(LifecycleState.STARTING))
                .assertNext(refused -> assertThat(refused.refusal().code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                .thenCancel()
                .verify(PATIENCE);
        assertThat(controlPlane.appliedTo(row.agentId())).isEmpty();
        assertThat(controlPlane.row(row.agentId()).state()).isEqualTo(LifecycleState.CREATED);
    }

    @Test
    void aCutSessionLeavesItsUnacknowledgedUpdateForTheNextSessionOnTheSameRow() {
        AgentRow row = controlPlane.startBuild("ws");
        TestSession cutBeforeTheAck = controlPlane.session(row).failAt(0, true);

        StepVerifier.create(reporter.report(connector.sessions()).ofType(SessionStarted.class))
                .then(() -> connector.connect(cutBeforeTheAck))
                .expectNextMatches(started -> started.resumption() == Resumption.FIRST)
                .then(() -> lifecycle.transitionTo(LifecycleState.STARTING))
                .then(() -> connector.connect(row))
                .expectNextMatches(started -> started.resumption() == Resumption.RESUME)
                .thenCancel()
                .verify(PATIENCE);
        assertThat(controlPlane.appliedTo(row.agentId())).extracting(LifecycleUpdate::seq)
                .as("applied once; the resent update was a duplicate").containsExactly(1L);
    }

    @Test
    void heldUpdatesReachTheControlPlaneOnlyOnceReleased() {
        AgentRow row = controlPlane.startBuild("ws");
        TestSession held = controlPlane.session(row).hold();
        reporter.report(connector.sessions()).subscribe();
        connector.connect(held);
        lifecycle.transitionTo(LifecycleState.STARTING);

        assertThat(controlPlane.appliedTo(row.agentId())).isEmpty();
        held.release();
        assertThat(controlPlane.appliedTo(row.agentId())).extracting(LifecycleUpdate::state)
                .containsExactly(LifecycleState.STARTING);
        assertThat(held.updates()).hasSize(1);
    }

    @Test
    void theReporterCompletesOnceTheConnectorGivesUpAndTheLastSessionEnds() {
        AgentRow row = controlPlane.startBuild("ws");
        TestSession session = controlPlane.session(row);

        StepVerifier.withVirtualTime(() -> reporter.report(connector.sessions()).ofType(ReporterEvent.SessionEnded.class),
                        () -> scheduler, Long.MAX_VALUE)
                .then(() -> connector.connect(session))
                .then(connector::giveUp)
                .expectNoEvent(Duration.ofMinutes(1))                  // the session is still open
                .then(session::cut)
                .expectNextCount(1)
                .expectComplete()
                .verify(PATIENCE);
        assertThatThrownBy(() -> connector.connect(row)).as("a connector that gave up establishes nothing")
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("gave up");
    }

    @Test
    void aLateReporterReceivesOnlyTheCurrentSession() {
        AgentRow first = controlPlane.startBuild("ws");
        connector.connect(first);
        AgentRow second = controlPlane.startBuild("ws");
        connector.connect(second);

        StepVerifier.create(reporter.report(connector.sessions()).ofType(SessionStarted.class))
                .assertNext(started -> {
                    assertThat(started.manifest().agentId()).isEqualTo(second.agentId());
                    assertThat(started.resumption()).isEqualTo(Resumption.FIRST);
                })
                .thenCancel()
                .verify(PATIENCE);
    }

    @Test
    void theSchedulerClockMovesWithVirtualTimeOnly() {
        assertThat(clock.instant()).isEqualTo(START);
        scheduler.advanceTimeBy(Duration.ofMinutes(3));
        assertThat(clock.instant()).isEqualTo(START.plus(Duration.ofMinutes(3)));
    }

    @Test
    void anUnknownRowAndABadDelayAreRefusedClearly() {
        AgentRow row = controlPlane.startBuild("ws");

        assertThatThrownBy(() -> controlPlane.row(AgentId.of("nobody")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no such row");
        assertThatThrownBy(() -> controlPlane.session(row).acknowledgeAfter(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("delay");
    }

    @Test
    void readmeShowsTheKitSnippetAsCompiled() {
        ReadmeSnippets.assertReadmeShows(Path.of("src/test/java/dev/agentcore/test/TestKitTest.java"), "kit");
    }
}
