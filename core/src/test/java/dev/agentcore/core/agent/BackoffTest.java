package dev.agentcore.core.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The backoff between connection attempts: its bounds, its jitter, and its pauses in virtual time. */
class BackoffTest {

    private static final long SEED = 20261129L;
    private final Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10));

    @Test
    void theBoundDoublesPerFailureFromInitialUpToMaxAndStaysThere() {
        assertThat(backoff.bound(0)).isEqualTo(Duration.ofMillis(100));
        assertThat(backoff.bound(1)).isEqualTo(Duration.ofMillis(200));
        assertThat(backoff.bound(6)).isEqualTo(Duration.ofMillis(6_400));
        assertThat(backoff.bound(7)).isEqualTo(Duration.ofSeconds(10));
        assertThat(backoff.bound(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(10));
        assertThat(new Backoff(Duration.ofDays(10_000), Duration.ofDays(20_000)).bound(62))
                .as("no overflow for long durations").isEqualTo(Duration.ofDays(20_000));
    }

    @Test
    void everyDelayIsFullJitterBetweenZeroAndTheBound() {
        Random random = new Random(SEED);
        for (int failures = 0; failures < 12; failures++) {
            for (int draw = 0; draw < 200; draw++) {
                assertThat(backoff.delay(failures, random)).isBetween(Duration.ZERO, backoff.bound(failures));
            }
        }
    }

    @Test
    void durationsThatCannotWorkAreRefusedWithTheFieldsName() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("initial: must be at least 1 ms");
        assertThatThrownBy(() -> new Backoff(Duration.ofMillis(-5), Duration.ofSeconds(1)))
                .hasMessageStartingWith("initial: must be at least 1 ms");
        assertThatThrownBy(() -> new Backoff(Duration.ofNanos(500), Duration.ofSeconds(1)))
                .as("below the millisecond the delays are computed in").hasMessageStartingWith("initial:");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessageStartingWith("max: must be at least initial (PT2S), was PT1S");
        assertThatThrownBy(() -> new Backoff(null, Duration.ofSeconds(1))).hasMessage("initial");
        assertThatThrownBy(() -> backoff.bound(-1)).hasMessageStartingWith("failures: must not be negative");
    }

    @Test
    void aPauseLastsTheDrawnDelayNotAMillisecondLess() {
        Duration drawn = backoff.delay(3, new Random(SEED));

        StepVerifier.withVirtualTime(() -> backoff.pause(3, new Random(SEED), VirtualTimeScheduler.get()))
                .expectSubscription()
                .expectNoEvent(drawn.minusMillis(1))
                .thenAwait(Duration.ofMillis(1))
                .expectNext(drawn)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aRetryLoopThatAlwaysFailsPausesLongerEachTimeUpToTheCap() {
        // The same draws the loop will make, from the same seed.
        Random expected = new Random(SEED);
        List<Duration> pauses = new ArrayList<>();
        for (int failures = 1; failures <= 12; failures++) {
            pauses.add(backoff.delay(failures, expected));
        }
        AtomicInteger failures = new AtomicInteger();
        Random random = new Random(SEED);

        StepVerifier.FirstStep<Integer> attempts = StepVerifier.withVirtualTime(() ->
                Flux.defer(() -> Mono.just(failures.incrementAndGet()))
                        .repeatWhen(done -> done.concatMap(ignored -> backoff.pause(failures.get(), random,
                                VirtualTimeScheduler.get())))
                        .take(13));
        StepVerifier.Step<Integer> step = attempts.expectNext(1);
        for (int i = 0; i < pauses.size(); i++) {
            Duration pause = pauses.get(i);
            if (!pause.isZero()) {
                step = step.expectNoEvent(pause.minusMillis(1)).thenAwait(Duration.ofMillis(1));
            }
            step = step.expectNext(i + 2);
        }
        step.expectComplete().verify(Duration.ofSeconds(5));
        assertThat(pauses.subList(7, 12)).as("capped at max once the bound reached it")
                .allSatisfy(pause -> assertThat(pause).isLessThanOrEqualTo(Duration.ofSeconds(10)));
    }

    @Test
    void eachSubscriptionToAPauseDrawsItsOwnDelay() {
        Random same = new Random(SEED);
        Duration first = backoff.delay(10, same);
        Duration second = backoff.delay(10, same);

        StepVerifier.withVirtualTime(() -> {
                    Mono<Duration> pause = backoff.pause(10, new Random(SEED), VirtualTimeScheduler.get());
                    return pause.then(pause);
                })
                .expectSubscription()
                .expectNoEvent(first.plus(second).minusMillis(1))
                .thenAwait(Duration.ofMillis(1))
                .expectNext(second)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(first).isNotEqualTo(second);
    }
}
