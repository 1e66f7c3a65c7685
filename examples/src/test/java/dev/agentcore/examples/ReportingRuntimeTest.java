package dev.agentcore.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.test.SchedulerClock;
import dev.agentcore.test.TestConnector;
import dev.agentcore.test.TestControlPlane;
import dev.agentcore.test.TestSession;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Example: testing an agent runtime with the test kit. {@link ReportingRuntime} is tested here as
 * its author would: on the kit's control plane and sessions, under virtual time, with no sockets.
 */
class ReportingRuntimeTest {

    private static final Instant START = Instant.parse("2026-01-01T10:00:00Z");
    private static final Duration PATIENCE = Duration.ofSeconds(10);

    private final VirtualTimeScheduler scheduler = VirtualTimeScheduler.create();
    private final Clock clock = SchedulerClock.of(scheduler, START);
    private final TestControlPlane controlPlane = TestControlPlane.create(clock);
    private final TestConnector connector = controlPlane.connector();
    private final ReportingRuntime runtime = new ReportingRuntime(connector.sessions(), clock);

    @AfterEach
    void closeRuntime() {
        runtime.close();
    }

    @Test
    void theRuntimeReportsReadyAndANewBuildGetsTheChainReplayed() {
        AgentRow first = controlPlane.startBuild("ws");
        connector.connect(first);

        runtime.start(() -> scheduler.advanceTimeBy(Duration.ofSeconds(3)));   // a startup step taking 3 s
        AgentRow second = controlPlane.startBuild("ws");
        connector.connect(second);

        AgentRow ready = controlPlane.row(first.agentId());
        assertThat(ready.state()).isEqualTo(LifecycleState.READY);
        assertThat(Duration.between(ready.startedAt(), ready.readyAt())).isEqualTo(Duration.ofSeconds(3));
        assertThat(controlPlane.row(second.agentId()).state()).isEqualTo(LifecycleState.READY);
        assertThat(controlPlane.appliedTo(second.agentId())).allMatch(LifecycleUpdate::replay);
    }

    @Test
    void aStartupStepThatThrowsIsReportedAsStartError() {
        AgentRow row = controlPlane.startBuild("ws");
        connector.connect(row);

        assertThatThrownBy(() -> runtime.start(() -> {
            throw new IllegalStateException("no disk");
        })).hasMessage("no disk");
        assertThat(controlPlane.row(row.agentId()).state()).isEqualTo(LifecycleState.START_ERROR);
    }

    @Test
    void stopCompletesOnceTheControlPlaneAcknowledgedOff() {
        AgentRow row = controlPlane.startBuild("ws");
        connector.connect(row);
        runtime.start(() -> { });

        StepVerifier.create(runtime.stop(PATIENCE)).verifyComplete();
        assertThat(controlPlane.row(row.agentId()).state()).isEqualTo(LifecycleState.OFF);
    }

    @Test
    void stopGivesUpAfterItsPatienceWhenOffIsNeverAcknowledged() {
        AgentRow row = controlPlane.startBuild("ws");
        TestSession unresponsive = controlPlane.session(row).hold();
        connector.connect(unresponsive);
        runtime.start(() -> { });

        StepVerifier.withVirtualTime(() -> runtime.stop(Duration.ofSeconds(30)), () -> scheduler, Long.MAX_VALUE)
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(29))
                .thenAwait(Duration.ofSeconds(1))
                .expectComplete()
                .verify(PATIENCE);
        assertThat(controlPlane.row(row.agentId()).state()).as("nothing got through").isEqualTo(LifecycleState.CREATED);
        assertThat(unresponsive.updates()).isEmpty();
    }
}
