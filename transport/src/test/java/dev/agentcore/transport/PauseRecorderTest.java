package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The recorder notes pauses on the connector's threads, which in these tests are event loops that
 * BlockHound watches, while a test thread waits for them. Noting one must never wait for that test
 * thread: a queue whose add takes the lock its waiting reader holds parks the event loop now and
 * then, BlockHound fails the connector for it, and the test that drove the connector fails with
 * a BlockingOperationError (AgentConnectorTimingTest did, in CI).
 */
class PauseRecorderTest {

    private static final int PAUSES = 200_000;

    @Test
    void notingPausesOnANonBlockingThreadNeverWaitsForTheReader() {
        PauseRecorder pauses = new PauseRecorder(VirtualTimeScheduler.create());
        Scheduler nonBlocking = Schedulers.newParallel("pause-noter", 1);
        AtomicReference<Throwable> notingFailed = new AtomicReference<>();
        // In lockstep: the reader asks for a pause and at once waits for it, so that the noting
        // thread often adds it just as the reader has taken the queue's lock to wait.
        Sinks.Many<Integer> asks = Sinks.many().unicast().onBackpressureBuffer();
        Disposable noting = asks.asFlux()
                .publishOn(nonBlocking)
                .subscribe(n -> pauses.schedule(() -> { }, n, TimeUnit.MILLISECONDS), notingFailed::set);
        try {
            for (int n = 1; n <= PAUSES && notingFailed.get() == null; n++) {
                asks.tryEmitNext(n).orThrow();
                Duration pause;
                try {
                    pause = pauses.next(ControlPlaneFixture.TIMEOUT);
                } catch (AssertionError noPause) {
                    assertThat(notingFailed.get()).as("what the noting thread failed with").isNull();
                    throw noPause;
                }
                assertThat(pause).isEqualTo(Duration.ofMillis(n));
            }
            assertThat(notingFailed.get()).as("what the noting thread failed with").isNull();
        } finally {
            noting.dispose();
            nonBlocking.dispose();
        }
    }
}
