package com.example.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent.UpdateAcknowledged;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.test.SchedulerClock;
import dev.agentcore.test.TestConnector;
import dev.agentcore.test.TestControlPlane;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** A user's test: their lifecycle reported through the kit, with StepVerifier under virtual time. */
class ReportingThroughTheKitTest {

    @Test
    void aSlowAcknowledgementAndABuildBoundaryInVirtualTime() {
        VirtualTimeScheduler scheduler = VirtualTimeScheduler.create();
        Clock clock = SchedulerClock.of(scheduler, Instant.parse("2026-01-01T10:00:00Z"));
        TestControlPlane controlPlane = TestControlPlane.create(clock);
        TestConnector connector = controlPlane.connector();
        Lifecycle lifecycle = Lifecycle.create(clock);
        LifecycleReporter reporter = LifecycleReporter.builder(lifecycle).clock(clock).build();
        AgentRow first = controlPlane.startBuild("ws");

        StepVerifier.withVirtualTime(() -> reporter.report(connector.sessions()).ofType(UpdateAcknowledged.class),
                        () -> scheduler, Long.MAX_VALUE)
                .then(() -> connector.connect(controlPlane.session(first).acknowledgeAfter(Duration.ofMinutes(1))))
                .then(() -> lifecycle.transitionTo(LifecycleState.STARTING))
                .expectNoEvent(Duration.ofSeconds(59))
                .thenAwait(Duration.ofSeconds(1))
                .expectNextCount(1)
                .then(() -> connector.connect(controlPlane.startBuild("ws")))
                .expectNextCount(1)
                .thenCancel()
                .verify(Duration.ofSeconds(10));

        AgentRow second = controlPlane.latestRow("ws");
        assertEquals(LifecycleState.STARTING, second.state());
        assertTrue(controlPlane.appliedTo(second.agentId()).stream().allMatch(LifecycleUpdate::replay));
    }
}
