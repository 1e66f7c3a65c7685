package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.ClockOffset;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.core.control.AgentRow;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * An agent whose clock is off reports, over real RSocket, the times the control plane saw: the
 * manifest carries the control plane's clock, the connector measures the offset over that round
 * trip, and the reporter corrects what it sends. The control plane's own wall clock, set back,
 * never holds updates back: its rate limits read a monotonic time.
 */
class ClockAgreementTest {

    /** A wall clock set back an hour each time it is read. */
    private static final Clock STEPPING_BACK = new Clock() {
        private final AtomicLong reads = new AtomicLong();

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.now().minus(Duration.ofHours(reads.incrementAndGet()));
        }
    };

    private ControlPlaneFixture fixture = new ControlPlaneFixture();
    private Disposable agent;

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.dispose();
        }
        fixture.close();
    }

    @Test
    void aWallClockSetBackDoesNotStarveTheUpdateRateLimit() {
        fixture.close();
        fixture = new ControlPlaneFixture(builder -> builder.clock(STEPPING_BACK));
        String identity = fixture.workspaceWithBuild("ws");
        Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
        agent = LifecycleReporter.builder(lifecycle).build()
                .report(AgentConnector.builder(fixture.tcp(), identity).build().sessions())
                .subscribe();

        lifecycle.transitionTo(LifecycleState.STARTING);
        lifecycle.transitionTo(LifecycleState.READY);

        // Reading time from the wall clock, the channel's bucket would have been an hour in debt.
        StepVerifier.create(fixture.lifecycle.watch("ws").filter(row -> row.state() == LifecycleState.READY).take(1))
                .expectNextCount(1).expectComplete().verify(ControlPlaneFixture.TIMEOUT);
    }

    @ParameterizedTest(name = "agent clock off by {0} s")
    @ValueSource(longs = {-3600, 3600, 30})
    void aSkewedAgentReportsTheControlPlanesTimes(long skewSeconds) {
        String identity = fixture.workspaceWithBuild("ws");
        AgentRow created = fixture.latest("ws");
        Clock agentClock = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(skewSeconds));
        Lifecycle lifecycle = Lifecycle.create(agentClock);
        List<ReporterEvent> events = new CopyOnWriteArrayList<>();
        List<ClockOffset> offsets = new CopyOnWriteArrayList<>();
        agent = LifecycleReporter.builder(lifecycle).clock(agentClock).build()
                .report(AgentConnector.builder(fixture.tcp(), identity).clock(agentClock).build().sessions()
                        .doOnNext(session -> offsets.add(session.clockOffset())))
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
        // When it happened, in the control plane's time: never later, and earlier by at most the
        // round trip that measured the offset (twice its error bound; loopback: milliseconds, more
        // on a loaded machine).
        assertThat(offsets).isNotEmpty();
        Duration roundTrip = offsets.stream().map(ClockOffset::errorBound).max(Duration::compareTo).orElseThrow()
                .multipliedBy(2).plusMillis(1);
        assertThat(row.startedAt()).isAfter(created.createdAt())
                .isBetween(before.minus(roundTrip), after);
        assertThat(row.readyAt()).isAfter(row.startedAt()).isBeforeOrEqualTo(after);
    }
}
