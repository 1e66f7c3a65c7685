package dev.agentcore.test;

import static dev.agentcore.core.LifecycleState.READY;
import static dev.agentcore.core.LifecycleState.STARTING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.ChainId;
import dev.agentcore.core.agent.ClockOffset;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.testing.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/**
 * Agents whose clocks disagree with the control plane's: the session's measured offset corrects
 * what the reporter sends, and the control plane keeps each row's order whatever arrives.
 */
class ClockSkewTest {

    private static final ChainId CHAIN = new ChainId("incarnation-1", 0);

    /** The control plane's clock: the true time in these tests. */
    private final MutableClock serverClock = MutableClock.at("2026-01-01T10:00:00Z");
    private final TestControlPlane controlPlane = TestControlPlane.create(serverClock);
    private final TestConnector connector = controlPlane.connector();
    private Disposable reporting;

    @AfterEach
    void stop() {
        if (reporting != null) {
            reporting.dispose();
        }
    }

    /** The agent's clock: the control plane's plus a skew that a test may change (a clock that jumps). */
    private static final class SkewedClock extends Clock {
        private final Clock truth;
        private final AtomicReference<Duration> skew;

        SkewedClock(Clock truth, Duration skew) {
            this.truth = truth;
            this.skew = new AtomicReference<>(skew);
        }

        void jump(Duration by) {
            skew.updateAndGet(current -> current.plus(by));
        }

        @Override
        public Instant instant() {
            return truth.instant().plus(skew.get());
        }

        @Override
        public ZoneId getZone() {
            return truth.getZone();
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    /** Connects with the offset a round trip of {@code roundTrip} would measure against this agent clock. */
    private void connect(AgentRow row, SkewedClock agentClock, Duration roundTrip) {
        Instant sent = agentClock.instant();
        Instant received = sent.plus(roundTrip);
        Instant serverAtMiddle = serverClock.instant().plus(roundTrip.dividedBy(2));
        connector.connect(controlPlane.session(row)
                .withClockOffset(ClockOffset.measured(sent, serverAtMiddle, received)));
    }

    /** Runs startup on an agent with {@code skew}: STARTING 1 s after the build, READY 3 s later. */
    private AgentRow startupWithSkew(Duration skew) {
        return startup(new SkewedClock(serverClock, skew), true, () -> { });
    }

    /**
     * Startup on an agent with {@code agentClock}: STARTING 1 s after the build, then
     * {@code beforeReady}, READY 3 s later; the session measured the offset, or not.
     */
    private AgentRow startup(SkewedClock agentClock, boolean measured, Runnable beforeReady) {
        Lifecycle lifecycle = Lifecycle.create(agentClock, CHAIN);
        reporting = LifecycleReporter.builder(lifecycle).clock(agentClock).build().report(connector.sessions()).subscribe();
        AgentRow row = controlPlane.startBuild("ws");
        serverClock.advance(Duration.ofSeconds(1));
        if (measured) {
            connect(row, agentClock, Duration.ofMillis(4));
        } else {
            connector.connect(controlPlane.session(row));
        }
        lifecycle.transitionTo(STARTING);
        serverClock.advance(Duration.ofSeconds(3));
        beforeReady.run();
        lifecycle.transitionTo(READY);
        return controlPlane.row(row.agentId());
    }

    @Test
    void anAgentAnHourBehindReportsTheTimesTheControlPlaneSaw() {
        AgentRow row = startupWithSkew(Duration.ofHours(-1));

        assertTimesOfTheControlPlane(row);
    }

    @Test
    void anAgentAnHourAheadReportsTheTimesTheControlPlaneSaw() {
        AgentRow row = startupWithSkew(Duration.ofHours(1));

        assertTimesOfTheControlPlane(row);
    }

    @Test
    void anAgentThirtySecondsAheadStoresNothingInTheFuture() {
        AgentRow row = startupWithSkew(Duration.ofSeconds(30));

        assertTimesOfTheControlPlane(row);
        assertThat(row.readyAt()).isBeforeOrEqualTo(serverClock.instant());
    }

    /**
     * STARTING 1 s after the build and READY 3 s later, in the control plane's time: the 3 s
     * exactly, each time at most the 4 ms round trip early and never late.
     */
    private static void assertTimesOfTheControlPlane(AgentRow row) {
        Instant starting = row.createdAt().plusSeconds(1);
        assertThat(row.startedAt()).isBetween(starting.minusMillis(4), starting);
        assertThat(Duration.between(row.startedAt(), row.readyAt())).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void aLopsidedRoundTripNeitherPutsATimeInTheFutureNorShortensStartup() {
        // The request took 18 ms to reach the control plane and the answer 2 ms to come back (a
        // cold JVM): the middle of the round trip is 8 ms off, so the offset is measured 8 ms too
        // large. STARTING happened before the connection and arrives late; READY arrives at once.
        SkewedClock agentClock = new SkewedClock(serverClock, Duration.ofHours(-1));
        Lifecycle lifecycle = Lifecycle.create(agentClock, CHAIN);
        reporting = LifecycleReporter.builder(lifecycle).clock(agentClock).build().report(connector.sessions()).subscribe();
        AgentRow created = controlPlane.startBuild("ws");
        serverClock.advance(Duration.ofSeconds(1));
        lifecycle.transitionTo(STARTING);
        Instant startingHappened = serverClock.instant();
        serverClock.advance(Duration.ofMillis(100));
        Instant sent = agentClock.instant();
        Instant serverRead = serverClock.instant().plusMillis(18);
        Instant received = sent.plusMillis(20);
        serverClock.advance(Duration.ofMillis(20));
        connector.connect(controlPlane.session(created)
                .withClockOffset(ClockOffset.measured(sent, serverRead, received)));
        serverClock.advance(Duration.ofSeconds(3));
        lifecycle.transitionTo(READY);
        AgentRow row = controlPlane.row(created.agentId());

        assertThat(Duration.between(row.startedAt(), row.readyAt())).as("startup as the agent measured it")
                .isEqualTo(Duration.ofMillis(3120));
        assertThat(row.readyAt()).isBeforeOrEqualTo(serverClock.instant());
        assertThat(row.startedAt()).as("never later than it happened, and earlier by at most the round trip")
                .isBetween(startingHappened.minusMillis(20), startingHappened);
    }

    @Test
    void anOffsetWithinTheRoundTripsErrorIsNotApplied() {
        ClockOffset noisy = ClockOffset.measured(Instant.parse("2026-01-01T10:00:00Z"),
                Instant.parse("2026-01-01T10:00:00.003Z"), Instant.parse("2026-01-01T10:00:00.010Z"));

        assertThat(noisy.offset()).isEqualTo(Duration.ofMillis(-2));
        assertThat(noisy.errorBound()).isEqualTo(Duration.ofMillis(5));
        assertThat(noisy.correction()).isZero();
        assertThat(ClockOffset.measured(Instant.parse("2026-01-01T10:00:00Z"), Instant.parse("2026-01-01T11:00:00Z"),
                Instant.parse("2026-01-01T09:00:00Z"))).as("a clock stepped back mid-way measures nothing")
                .isEqualTo(ClockOffset.UNKNOWN);
    }

    @Test
    void aClockThatJumpsBackMidChainStillGivesReadyAfterStarted() {
        SkewedClock agentClock = new SkewedClock(serverClock, Duration.ZERO);
        // NTP steps the clock back 10 minutes between STARTING and READY.
        AgentRow row = startup(agentClock, true, () -> agentClock.jump(Duration.ofMinutes(-10)));

        assertThat(row.startedAt()).isEqualTo(row.createdAt().plusSeconds(1));
        assertThat(row.readyAt()).isAfter(row.startedAt());
    }

    @Test
    void withoutAMeasuredOffsetTheControlPlaneStillKeepsTheRowsOrder() {
        // An agent an hour behind whose session measured nothing (a client that does not read server_time).
        AgentRow row = startup(new SkewedClock(serverClock, Duration.ofHours(-1)), false, () -> { });

        assertThat(row.startedAt()).isEqualTo(row.createdAt());
        assertThat(row.readyAt()).isEqualTo(row.createdAt().plusMillis(1));
    }
}
