package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.agent.AgentSession;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * A refusal that retrying cannot fix is never retried at full speed: a session that ends
 * without progress counts as a failure, so the connector's backoff grows, and a refused identity
 * ends the connector. Real sockets; the backoff runs on a clock that moves only by the delays
 * the connector asks for, so the count of attempts per minute is exact and takes no real minute.
 */
class NoHotRetryTest {

    private static final long SEED = 20261128L;
    private final ControlPlaneFixture fixture = new ControlPlaneFixture();
    private final BackoffClock clock = new BackoffClock();

    @AfterEach
    void stop() {
        fixture.close();
        clock.worker.dispose();
    }

    /**
     * A scheduler whose clock moves only when the connector waits: each delay it is asked for is
     * added to the clock and the task runs at once (on one real thread).
     */
    private static final class BackoffClock implements Scheduler {
        final List<Long> delays = new CopyOnWriteArrayList<>();
        final AtomicLong nowMillis = new AtomicLong();
        final Scheduler.Worker worker = Schedulers.single().createWorker();

        @Override
        public Disposable schedule(Runnable task) {
            return worker.schedule(task);
        }

        @Override
        public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
            delays.add(unit.toMillis(delay));
            nowMillis.addAndGet(unit.toMillis(delay));
            return worker.schedule(task);
        }

        /** The connector's liveness watch: in real time (its checks never come due in these short tests). */
        @Override
        public Disposable schedulePeriodically(Runnable task, long initialDelay, long period, TimeUnit unit) {
            return worker.schedulePeriodically(task, initialDelay, period, unit);
        }

        @Override
        public long now(TimeUnit unit) {
            return unit.convert(nowMillis.get(), TimeUnit.MILLISECONDS);
        }

        @Override
        public Worker createWorker() {
            return Schedulers.single().createWorker();
        }
    }

    @Test
    void everyUpdateRefusedMakesAtMostAFewAttemptsPerBackoffWindow() {
        String identity = fixture.workspaceWithBuild("ws");
        System.out.printf("NoHotRetryTest: seed %d%n", SEED);
        AgentConnector connector = AgentConnector.builder(fixture.tcp(), identity)
                .backoff(Duration.ofMillis(100), Duration.ofSeconds(10))
                .scheduler(clock).random(new Random(SEED)).build();
        // A peer whose every update is refused: a chain that does not begin at seq 1 on a fresh row.
        LifecycleUpdate refused = new LifecycleUpdate(new ChainId("buggy", 0), 5, LifecycleState.READY,
                Instant.now(), false, null);
        AtomicInteger attempts = new AtomicInteger();
        List<Throwable> refusals = new CopyOnWriteArrayList<>();

        StepVerifier.create(connector.sessions()
                        .doOnNext(session -> attempts.incrementAndGet())
                        .concatMap((AgentSession session) -> session.lifecycleChannel(Flux.just(refused))
                                .doOnError(refusals::add).onErrorResume(error -> Mono.empty())
                                .then(Mono.just(session)), 1)
                        .take(30))
                .expectNextCount(30).verifyComplete();

        assertThat(refusals).hasSize(30).allSatisfy(error -> assertThat(error)
                .isInstanceOfSatisfying(AgentcoreException.class,
                        refusal -> assertThat(refusal.code()).isEqualTo(ErrorCode.INVALID_TRANSITION)));
        long elapsed = clock.nowMillis.get();
        System.out.printf("NoHotRetryTest: 30 refused sessions took %.1f s of backoff; delays %s%n", elapsed / 1000.0,
                clock.delays);
        // Full jitter on a doubling bound capped at 10 s: after the first few, each wait averages 5 s.
        // Before, every established session reset the backoff: 30 attempts within 3 s (100 ms each at most).
        assertThat(elapsed).as("backoff over 30 refused sessions").isGreaterThan(60_000);
    }

    @Test
    void anIdentityRefusedTooOftenEndsTheConnectorWithAClearError() {
        fixture.workspaceWithBuild("ws");
        AgentConnector connector = AgentConnector.builder(fixture.tcp(), "not-the-identity")
                .backoff(Duration.ofMillis(100), Duration.ofSeconds(10)).identityRefusalLimit(3)
                .scheduler(clock).random(new Random(SEED)).build();

        StepVerifier.create(connector.sessions())
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOfSatisfying(AgentcoreException.class,
                                refusal -> assertThat(refusal.code()).isEqualTo(ErrorCode.UNAUTHENTICATED))
                        .hasMessageStartingWith("the instance identity was refused 3 times in a row: check the identity file"))
                .verify(ControlPlaneFixture.TIMEOUT);
        assertThat(clock.delays).hasSize(2);
    }
}
