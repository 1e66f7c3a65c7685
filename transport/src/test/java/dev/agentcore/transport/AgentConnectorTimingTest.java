package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.agent.Backoff;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.InMemoryWorkspaceStore;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.WorkspaceStore;
import dev.agentcore.core.control.WorkspaceStore.StoredWorkspace;
import dev.agentcore.core.testing.ForwardingWorkspaceStore;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The connector's timing, in virtual time over real sockets: the backoff pause it takes after a
 * failed attempt (drawn from a seeded random, so the test knows it), when that pause starts over,
 * where the next attempt goes, and its own watch of a half-open connection. Real time passes only
 * while bytes travel; every wait is virtual.
 */
class AgentConnectorTimingTest {

    private static final long SEED = 20261129L;
    private static final Backoff BACKOFF = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10));
    private static final KeepAlive KEEP_ALIVE = new KeepAlive(Duration.ofSeconds(1), Duration.ofSeconds(3));

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final PauseRecorder pauses = new PauseRecorder(time);

    /** A TCP server that accepts and at once closes every connection, noting which it was. */
    private static final class RefusingServer implements AutoCloseable {
        final DisposableServer server;
        final AtomicInteger accepted = new AtomicInteger();
        // Added to on an event loop: a queue whose add takes no lock (see PauseRecorder).
        final BlockingQueue<Integer> attempts = new LinkedTransferQueue<>();

        RefusingServer() {
            server = TcpServer.create().host("127.0.0.1").port(0)
                    .doOnConnection(connection -> {
                        attempts.add(accepted.incrementAndGet());
                        connection.dispose();
                    })
                    .bindNow(TIMEOUT);
        }

        ControlPlaneAddress address() {
            return ControlPlaneAddress.tcp("127.0.0.1", server.port());
        }

        /** Waits in real time for the next attempt to reach this server; returns its number. */
        int awaitAttempt() {
            try {
                Integer attempt = attempts.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(attempt).as("an attempt reached " + address()).isNotNull();
                return attempt;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        @Override
        public void close() {
            server.disposeNow(TIMEOUT);
        }
    }

    private AgentConnector.Builder connector(ControlPlaneAddress address, String identity) {
        return AgentConnector.builder(address, identity)
                .backoff(BACKOFF)
                .keepAlive(KEEP_ALIVE)
                .random(new Random(SEED))
                .scheduler(pauses);
    }

    /** A step that lets exactly {@code pause} of virtual time pass, checking that nothing happens a millisecond before. */
    private static <T> StepVerifier.Step<T> lets(StepVerifier.Step<T> step, Duration pause, Runnable stillNothing) {
        if (pause.isZero()) {
            return step;
        }
        return step.expectNoEvent(pause.minusMillis(1)).then(stillNothing).thenAwait(Duration.ofMillis(1));
    }

    @Test
    void afterEachFailedAttemptTheConnectorWaitsItsDrawnPauseAndNotLessThenTriesAgain() {
        Random draws = new Random(SEED);
        Duration first = BACKOFF.delay(1, draws);
        Duration second = BACKOFF.delay(2, draws);
        try (RefusingServer server = new RefusingServer()) {
            StepVerifier.Step<AgentSession> step = StepVerifier.withVirtualTime(
                            () -> connector(server.address(), "identity").build().sessions(), () -> time, Long.MAX_VALUE)
                    .expectSubscription()
                    .then(() -> assertThat(server.awaitAttempt()).isEqualTo(1))
                    .then(() -> assertThat(pauses.next(TIMEOUT)).isEqualTo(first));
            step = lets(step, first, () -> assertThat(server.accepted).hasValue(1));
            step = step.then(() -> assertThat(server.awaitAttempt()).isEqualTo(2))
                    .then(() -> assertThat(pauses.next(TIMEOUT)).as("a second failure: up to twice as long")
                            .isEqualTo(second).isLessThanOrEqualTo(BACKOFF.bound(2)));
            lets(step, second, () -> assertThat(server.accepted).hasValue(2))
                    .then(() -> assertThat(server.awaitAttempt()).isEqualTo(3))
                    .thenCancel()
                    .verify(TIMEOUT);
        }
    }

    @Test
    void pausesStopGrowingAtTheBackoffsMax() {
        Backoff tight = new Backoff(Duration.ofMillis(100), Duration.ofMillis(400));
        Random draws = new Random(SEED);
        try (RefusingServer server = new RefusingServer()) {
            StepVerifier.Step<AgentSession> step = StepVerifier.withVirtualTime(
                            () -> connector(server.address(), "identity").backoff(tight).build().sessions(),
                            () -> time, Long.MAX_VALUE)
                    .expectSubscription();
            for (int failures = 1; failures <= 6; failures++) {
                Duration expected = tight.delay(failures, draws);
                step = step.then(server::awaitAttempt)
                        .then(() -> assertThat(pauses.next(TIMEOUT)).isEqualTo(expected)
                                .isLessThanOrEqualTo(Duration.ofMillis(400)))
                        .thenAwait(expected);
            }
            step.then(server::awaitAttempt).thenCancel().verify(TIMEOUT);
        }
    }

    @Test
    void afterAFailedAttemptTheNextGoesToTheAlternateAddress() {
        Random draws = new Random(SEED);
        Duration first = BACKOFF.delay(1, draws);
        Duration second = BACKOFF.delay(2, draws);
        try (RefusingServer primary = new RefusingServer(); RefusingServer alternate = new RefusingServer()) {
            StepVerifier.withVirtualTime(() -> connector(primary.address(), "identity")
                                    .alternateAddresses(alternate.address()).build().sessions(),
                            () -> time, Long.MAX_VALUE)
                    .expectSubscription()
                    .then(primary::awaitAttempt)
                    .then(() -> pauses.next(TIMEOUT))
                    .thenAwait(first)
                    .then(() -> assertThat(alternate.awaitAttempt()).isEqualTo(1))
                    .then(() -> pauses.next(TIMEOUT))
                    .thenAwait(second)
                    .then(() -> assertThat(primary.awaitAttempt()).as("round the list again").isEqualTo(2))
                    .then(() -> assertThat(alternate.accepted).hasValue(1))
                    .thenCancel()
                    .verify(TIMEOUT);
        }
    }

    @Test
    void aConnectionThatEndsWithoutProgressCountsAsAFailure() {
        Random draws = new Random(SEED);
        Duration expected = BACKOFF.delay(1, draws);
        try (ControlPlaneFixture fixture = new ControlPlaneFixture()) {
            String identity = fixture.workspaceWithBuild("ws");
            StepVerifier.withVirtualTime(() -> connector(fixture.tcp(), identity).build().sessions(),
                            () -> time, Long.MAX_VALUE)
                    .expectNextCount(1)
                    // Nothing acknowledged and no virtual time passed: the control plane going away is a failure.
                    .then(fixture::stop)
                    .then(() -> assertThat(pauses.next(TIMEOUT)).isEqualTo(expected))
                    .thenCancel()
                    .verify(TIMEOUT);
        }
    }

    @Test
    void aConnectionThatLivedForTheBackoffsMaxStartsTheBackoffOver() {
        Random draws = new Random(SEED);
        Duration expected = BACKOFF.delay(0, draws);
        try (ControlPlaneFixture fixture = new ControlPlaneFixture()) {
            String identity = fixture.workspaceWithBuild("ws");
            StepVerifier.withVirtualTime(() -> connector(fixture.tcp(), identity)
                                    // Keepalive slower than the test's virtual wait: only the backoff is at play.
                                    .keepAlive(new KeepAlive(Duration.ofSeconds(30), Duration.ofSeconds(90)))
                                    .build().sessions(),
                            () -> time, Long.MAX_VALUE)
                    .expectNextCount(1)
                    .thenAwait(BACKOFF.max())
                    .then(fixture::stop)
                    .then(() -> assertThat(pauses.next(TIMEOUT)).as("bounded by initial, as after no failure")
                            .isEqualTo(expected).isLessThanOrEqualTo(BACKOFF.initial()))
                    .thenCancel()
                    .verify(TIMEOUT);
        }
    }

    /**
     * A control plane that never answers the exchange (its store hangs): the connector's watch
     * closes the connection once a max lifetime passed without the answer, and the attempt counts
     * as failed, so the connector backs off and tries again instead of waiting for ever. (In
     * virtual time the keepalives' answers lag the clock, so silence ends it here too; that the
     * missing answer alone does, keepalives answered, is {@code LivenessWatchTest}'s.)
     */
    @Test
    void anExchangeThatIsNeverAnsweredIsGivenUpAfterTheMaxLifetimeAndRetried() {
        BlockingQueue<String> asked = new LinkedTransferQueue<>(); // added to on an event loop
        WorkspaceStore hanging = new ForwardingWorkspaceStore(new InMemoryWorkspaceStore()) {
            @Override
            public Mono<StoredWorkspace> findByIdentityHash(String identityHash) {
                return Mono.fromRunnable(() -> asked.add(identityHash)).then(Mono.never());
            }
        };
        InMemoryAgentStore rows = new InMemoryAgentStore();
        ControlPlaneServer.RunningControlPlane server = ControlPlaneServer.builder(
                        LifecycleService.builder(rows).build(), new AccessService(rows, hanging))
                .tcp("127.0.0.1", 0).adminToken(ControlPlaneFixture.ADMIN_TOKEN).build().start().block(TIMEOUT);
        Duration drawn = BACKOFF.delay(1, new Random(SEED));
        try {
            StepVerifier.withVirtualTime(() -> connector(ControlPlaneAddress.tcp(server.tcpAddress()), "identity")
                                    .build().sessions(),
                            () -> time, Long.MAX_VALUE)
                    .expectSubscription()
                    .then(() -> assertThat(poll(asked)).as("the control plane got the exchange").isNotNull())
                    .expectNoEvent(KEEP_ALIVE.maxLifetime().minus(KEEP_ALIVE.interval()))
                    .then(() -> assertThat(pauses.none()).as("still waiting for the answer").isTrue())
                    .thenAwait(KEEP_ALIVE.interval())
                    .then(() -> assertThat(pauses.next(TIMEOUT)).as("given up: a failed attempt's pause")
                            .isEqualTo(drawn))
                    .thenAwait(drawn)
                    .then(() -> assertThat(poll(asked)).as("and tried again").isNotNull())
                    .thenCancel()
                    .verify(TIMEOUT);
        } finally {
            server.disposeNow(TIMEOUT);
        }
    }

    private static String poll(BlockingQueue<String> queue) {
        try {
            return queue.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Half-open either way: with the answers dropped (the control plane still hears the agent) or
     * the agent's frames dropped, the session ends at the keepalive's max lifetime, not before.
     */
    @ParameterizedTest
    @EnumSource(FaultProxy.Direction.class)
    void aHalfOpenConnectionEndsItsSessionAtTheKeepAlivesMaxLifetimeAndNotBefore(FaultProxy.Direction dropped) {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture();
             FaultProxy proxy = FaultProxy.start(fixture.tcp().port(), 1)) {
            String identity = fixture.workspaceWithBuild("ws");
            StepVerifier.withVirtualTime(() -> connector(ControlPlaneAddress.tcp("127.0.0.1", proxy.port()), identity)
                                    // Not take(1): cancelling sessions() would close the connection itself.
                                    .build().sessions()
                                    .concatMap(session -> Flux.just("opened").concatWith(
                                            session.onClose().onErrorResume(error -> Mono.empty()).thenReturn("ended"))),
                            () -> time, Long.MAX_VALUE)
                    .expectNext("opened")
                    .then(() -> proxy.drop(dropped))
                    // Keepalives go out; no answer comes back.
                    .expectNoEvent(KEEP_ALIVE.maxLifetime().minus(KEEP_ALIVE.interval()))
                    .thenAwait(KEEP_ALIVE.interval())
                    .expectNext("ended")
                    .thenCancel()
                    .verify(TIMEOUT);
        }
    }
}
