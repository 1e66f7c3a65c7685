package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.core.control.AgentRow;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * An agent whose clock is off reports, over real RSocket, the times the control plane saw: the
 * manifest carries the control plane's clock, the connector measures the offset over that round
 * trip, and the reporter corrects what it sends.
 */
class ClockAgreementTest {

    private final ControlPlaneFixture fixture = new ControlPlaneFixture();
    private Disposable agent;

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.dispose();
        }
        fixture.close();
    }

    @ParameterizedTest(name = "agent clock off by {0} s")
    @ValueSource(longs = {-3600, 3600, 30})
    void aSkewedAgentReportsTheControlPlanesTimes(long skewSeconds) {
        String identity = fixture.workspaceWithBuild("ws");
        AgentRow created = fixture.latest("ws");
        Clock agentClock = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(skewSeconds));
        Lifecycle lifecycle = Lifecycle.create(agentClock);
        List<ReporterEvent> events = new CopyOnWriteArrayList<>();
        agent = LifecycleReporter.builder(lifecycle).clock(agentClock).build()
                .report(AgentConnector.builder(fixture.tcp(), identity).clock(agentClock).build().sessions())
                .subscribe(events::add);
        StepVerifier.create(Flux.interval(Duration.ofMillis(10))
                        .filter(tick -> events.stream().anyMatch(ReporterEvent.SessionStarted.class::isInstance))
                        .take(1))
                .expectNextCount(1).expectComplete().verify(ControlPlaneFixture.TIMEOUT);

        Instant before = Instant.now();
        lifecycle.transitionTo(LifecycleState.STARTING);
        lifecycle.transitionTo(LifecycleState.READY);
        StepVerifier.create(fixture.lifecycle.watch("ws").filter(row -> row.state() == LifecycleState.READY).take(1))
                .expectNextCount(1).expectComplete().verify(ControlPlaneFixture.TIMEOUT);
        Instant after = Instant.now();

        AgentRow row = fixture.latest("ws");
        // Within the round trip's error (loopback: milliseconds) of when it happened, in the control plane's time.
        assertThat(row.startedAt()).isAfter(created.createdAt())
                .isBetween(before.minusMillis(50), after);
        assertThat(row.readyAt()).isAfter(row.startedAt()).isBeforeOrEqualTo(after);
    }
}
