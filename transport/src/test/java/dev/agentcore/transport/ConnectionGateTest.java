package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The gate's caps and deadlines, in virtual time: no socket, no sleeping. */
class ConnectionGateTest {

    private static final ConnectionLimits LIMITS = new ConnectionLimits(10, 4, 2, Duration.ofSeconds(5),
            Duration.ofMillis(100), Duration.ofSeconds(60), Duration.ofSeconds(300),
            2, Duration.ofSeconds(10), Duration.ofSeconds(30), 8, 8);

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final ConnectionGate gate = new ConnectionGate(LIMITS, time, meters);

    /** A connection as the gate sees it: what it was told when it was closed. */
    private static final class FakeLink implements ConnectionGate.Link {
        final List<String> closes = new ArrayList<>();
        Boolean beforeSetup;

        @Override
        public void close(String message, boolean beforeSetup) {
            closes.add(message);
            this.beforeSetup = beforeSetup;
        }

        boolean closed() {
            return !closes.isEmpty();
        }
    }

    private static InetAddress address(int last) {
        try {
            return InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) last});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private double refused(ConnectionGate.Refusal reason) {
        return meters.get("agentcore.connections.refused").tag("reason", reason.tag()).counter().count();
    }

    private double open(String stage) {
        return meters.get("agentcore.connections.open").tag("stage", stage).gauge().value();
    }

    @Test
    void aConnectionWithoutSetupIsClosedAtItsDeadline() {
        FakeLink link = new FakeLink();
        gate.open(address(1), link);

        time.advanceTimeBy(Duration.ofMillis(4_999));
        assertThat(link.closed()).isFalse();
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(link.closes).containsExactly("INVALID_ARGUMENT: no SETUP frame within 5000 ms");
        assertThat(link.beforeSetup).isTrue();
        assertThat(refused(ConnectionGate.Refusal.SETUP_TIMEOUT)).isEqualTo(1);
        assertThat(open("pending")).isZero();
    }

    @Test
    void anAuthenticatedConnectionOutlivesEveryDeadline() {
        FakeLink link = new FakeLink();
        ConnectionGate.Ticket ticket = gate.open(address(1), link);
        assertThat(ticket.established(ConnectionGate.Stage.AUTHENTICATED)).isTrue();

        time.advanceTimeBy(Duration.ofHours(1));
        assertThat(link.closed()).isFalse();
        assertThat(open("authenticated")).isEqualTo(1);
        assertThat(open("pending")).isZero();
    }

    @Test
    void aSetupAfterTheDeadlineIsTooLate() {
        ConnectionGate.Ticket ticket = gate.open(address(1), new FakeLink());
        time.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(ticket.established(ConnectionGate.Stage.AUTHENTICATED)).isFalse();
        assertThat(open("authenticated")).isZero();
    }

    @Test
    void anIdleAnonymousConnectionIsClosedAfterTheIdleTime() {
        FakeLink link = new FakeLink();
        ConnectionGate.Ticket ticket = gate.open(address(1), link);
        ticket.established(ConnectionGate.Stage.ANONYMOUS);

        time.advanceTimeBy(Duration.ofSeconds(6));
        ticket.requestStarted();
        ticket.requestEnded();
        // Idle counts from the last request's end, not from SETUP.
        time.advanceTimeBy(Duration.ofSeconds(9));
        assertThat(link.closed()).isFalse();
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(link.closes).containsExactly(
                "RESOURCE_EXHAUSTED: a connection without a token is closed after 10000 ms without a request");
        assertThat(link.beforeSetup).isFalse();
        assertThat(refused(ConnectionGate.Refusal.ANONYMOUS_IDLE)).isEqualTo(1);
    }

    @Test
    void aBusyAnonymousConnectionIsClosedAtTheEndOfItsLifetime() {
        FakeLink link = new FakeLink();
        ConnectionGate.Ticket ticket = gate.open(address(1), link);
        ticket.established(ConnectionGate.Stage.ANONYMOUS);
        ticket.requestStarted(); // never ends: an exchange held open

        time.advanceTimeBy(Duration.ofMillis(29_999));
        assertThat(link.closed()).isFalse();
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(link.closes).containsExactly(
                "RESOURCE_EXHAUSTED: a connection without a token lives at most 30000 ms");
        assertThat(refused(ConnectionGate.Refusal.ANONYMOUS_LIFETIME)).isEqualTo(1);
    }

    @Test
    void anAnonymousConnectionMayExchangeOnlySoOften() {
        ConnectionGate.Ticket ticket = gate.open(address(1), new FakeLink());
        ticket.established(ConnectionGate.Stage.ANONYMOUS);
        assertThat(ticket.tryExchange()).isTrue();
        assertThat(ticket.tryExchange()).isTrue();
        assertThat(ticket.tryExchange()).isFalse();
        assertThat(refused(ConnectionGate.Refusal.ANONYMOUS_EXCHANGES)).isEqualTo(1);
    }

    @Test
    void oneAddressMayHoldOnlyItsShareOfUnauthenticatedConnections() {
        gate.open(address(1), new FakeLink());
        gate.open(address(1), new FakeLink());
        FakeLink third = new FakeLink();
        assertThat(gate.open(address(1), third)).isNull();
        assertThat(third.closes).containsExactly("RESOURCE_EXHAUSTED: 10.0.0.1 holds 2 connections that have not "
                + "authenticated: retry later");
        assertThat(third.beforeSetup).isTrue();
        // Another address is not affected.
        assertThat(gate.open(address(2), new FakeLink())).isNotNull();
        assertThat(refused(ConnectionGate.Refusal.UNAUTHENTICATED_PER_ADDRESS)).isEqualTo(1);
    }

    @Test
    void authenticatingFreesTheAddressShare() {
        gate.open(address(1), new FakeLink()).established(ConnectionGate.Stage.AUTHENTICATED);
        gate.open(address(1), new FakeLink()).established(ConnectionGate.Stage.AUTHENTICATED);
        gate.open(address(1), new FakeLink());
        assertThat(gate.open(address(1), new FakeLink())).isNotNull();
    }

    @Test
    void closingFreesTheSlot() {
        ConnectionGate.Ticket first = gate.open(address(1), new FakeLink());
        gate.open(address(1), new FakeLink());
        first.closed();
        assertThat(gate.open(address(1), new FakeLink())).isNotNull();
        first.closed(); // twice changes nothing
        assertThat(open("pending")).isEqualTo(2);
    }

    @Test
    void aNewConnectionEvictsTheOldestOfTheBusiestSourceWhenTheUnauthenticatedShareIsFull() {
        List<FakeLink> strangers = new ArrayList<>();
        for (int last : new int[] {2, 1, 1, 3}) {
            FakeLink link = new FakeLink();
            gate.open(address(last), link);
            strangers.add(link);
        }
        FakeLink agent = new FakeLink();
        ConnectionGate.Ticket ticket = gate.open(address(9), agent);

        assertThat(ticket).isNotNull();
        // 10.0.0.1 holds two: its older one goes, though 10.0.0.2's is older still.
        assertThat(strangers.get(1).closes).singleElement().asString().startsWith("evicted:");
        assertThat(strangers.get(1).beforeSetup).isTrue();
        assertThat(List.of(strangers.get(0), strangers.get(2), strangers.get(3))).noneMatch(FakeLink::closed);
        assertThat(ticket.established(ConnectionGate.Stage.AUTHENTICATED)).isTrue();
        assertThat(refused(ConnectionGate.Refusal.UNAUTHENTICATED_EVICTED)).isEqualTo(1);
        // The evicted one's timer went with it: the deadline closes the other three, not it again.
        time.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(strangers.get(1).closes).hasSize(1);
        assertThat(open("pending")).isZero();
    }

    @Test
    void strangersCrowdingInEvictEachOtherNotAnAgentOnItsOwnAddress() {
        FakeLink agent = new FakeLink();
        gate.open(address(9), agent); // the oldest of all, still before its SETUP
        for (int i = 0; i < 50; i++) {
            gate.open(address(1 + i % 2), new FakeLink());
        }
        assertThat(agent.closed()).isFalse();
        assertThat(refused(ConnectionGate.Refusal.UNAUTHENTICATED_EVICTED)).isEqualTo(47);
    }

    @Test
    void pastTheTotalEveryNewConnectionIsRefusedAndAuthenticatedOnesKeepTheirPlaces() {
        List<FakeLink> agents = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            FakeLink link = new FakeLink();
            gate.open(address(100 + i), link).established(ConnectionGate.Stage.AUTHENTICATED);
            agents.add(link);
        }
        FakeLink late = new FakeLink();
        assertThat(gate.open(address(1), late)).isNull();
        assertThat(late.closes).containsExactly("RESOURCE_EXHAUSTED: the control plane holds its limit of 10 "
                + "connections: retry later");
        assertThat(agents).noneMatch(FakeLink::closed);
        assertThat(refused(ConnectionGate.Refusal.CONNECTIONS)).isEqualTo(1);
    }

    @Test
    void limitsShrinkToFitTheOpenFileLimit() {
        ConnectionLimits fitted = ConnectionLimits.DEFAULTS.within(1024);
        assertThat(fitted.maxConnections())
                .isEqualTo(1024 - ConnectionLimits.RESERVED_FILE_DESCRIPTORS - ConnectionLimits.MAX_LINGERING);
        assertThat(fitted.maxUnauthenticated()).isEqualTo(fitted.maxConnections() / 4);
        assertThat(fitted.maxUnauthenticatedPerAddress()).isEqualTo(64);
        assertThat(ConnectionLimits.DEFAULTS.within(1_000_000)).isSameAs(ConnectionLimits.DEFAULTS);
        assertThat(ConnectionLimits.DEFAULTS.within(0)).isSameAs(ConnectionLimits.DEFAULTS);
    }

    @Test
    void keepaliveOutsideTheBoundsIsNamedWithTheBounds() {
        assertThat(LIMITS.keepAliveProblem(5_000, 15_000)).isNull();
        assertThat(LIMITS.keepAliveProblem(Integer.MAX_VALUE, Integer.MAX_VALUE))
                .isEqualTo("keepalive interval 2147483647 ms is outside this control plane's bounds of 100 to 60000 ms");
        assertThat(LIMITS.keepAliveProblem(20_000, Integer.MAX_VALUE)).isEqualTo("keepalive max lifetime 2147483647 ms"
                + " is outside this control plane's bounds of the interval (20000 ms) to 300000 ms");
        assertThat(LIMITS.keepAliveProblem(10, 1_000)).contains("keepalive interval 10 ms");
    }
}
