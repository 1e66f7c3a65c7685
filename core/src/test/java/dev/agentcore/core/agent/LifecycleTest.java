package dev.agentcore.core.agent;

import static dev.agentcore.core.LifecycleState.CREATED;
import static dev.agentcore.core.LifecycleState.OFF;
import static dev.agentcore.core.LifecycleState.READY;
import static dev.agentcore.core.LifecycleState.SHUTTING_DOWN;
import static dev.agentcore.core.LifecycleState.START_TIMEOUT;
import static dev.agentcore.core.LifecycleState.STARTING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleTransition;
import dev.agentcore.core.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

class LifecycleTest {

    private static final ChainId CHAIN = new ChainId("incarnation-1", 0);

    private final MutableClock clock = MutableClock.at("2026-01-01T10:00:00Z");
    private final Lifecycle lifecycle = Lifecycle.create(clock, CHAIN);

    @Test
    void startsAtCreatedWithSeqZero() {
        assertThat(lifecycle.current()).isEqualTo(new LifecycleTransition(CHAIN, 0, CREATED, clock.instant()));
        assertThat(lifecycle.chain()).hasSize(1);
    }

    @Test
    void transitionsTakeTheNextSeqAndTheClocksTime() {
        clock.advance(Duration.ofSeconds(5));
        LifecycleTransition starting = lifecycle.transitionTo(STARTING);

        assertThat(starting).isEqualTo(new LifecycleTransition(CHAIN, 1, STARTING, clock.instant()));
        assertThat(lifecycle.current()).isEqualTo(starting);
    }

    @Test
    void refusesTransitionsThatDoNotMoveToALaterStage() {
        lifecycle.transitionTo(STARTING);
        lifecycle.transitionTo(READY);

        assertThatThrownBy(() -> lifecycle.transitionTo(STARTING))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot go from READY to STARTING");
        assertThatThrownBy(() -> lifecycle.transitionTo(START_TIMEOUT))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> lifecycle.transitionTo(READY))
                .isInstanceOf(IllegalStateException.class);
        assertThat(lifecycle.chain()).extracting(LifecycleTransition::state).containsExactly(CREATED, STARTING, READY);
    }

    @Test
    void stampsAreStrictlyIncreasingWithinAChainWhenTheClockStandsStill() {
        LifecycleTransition starting = lifecycle.transitionTo(STARTING);
        LifecycleTransition ready = lifecycle.transitionTo(READY);

        assertThat(starting.changedAt()).isEqualTo(clock.instant().plusMillis(1));
        assertThat(ready.changedAt()).isEqualTo(clock.instant().plusMillis(2));
    }

    @Test
    void lateSubscriberSeesTheChainSoFarThenLiveTransitions() {
        lifecycle.transitionTo(STARTING);

        StepVerifier.create(lifecycle.transitions().map(LifecycleTransition::state))
                .expectNext(CREATED, STARTING)
                .then(() -> lifecycle.transitionTo(READY))
                .expectNext(READY)
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void reinitializeStartsANewGenerationAtCreated() {
        lifecycle.transitionTo(STARTING);
        lifecycle.transitionTo(READY);

        LifecycleTransition created = lifecycle.reinitialize();
        LifecycleTransition starting = lifecycle.transitionTo(STARTING);

        assertThat(created.chain()).isEqualTo(CHAIN.nextGeneration());
        assertThat(created.seq()).isZero();
        assertThat(starting.seq()).isEqualTo(1);
        assertThat(lifecycle.chain()).containsExactly(created, starting);
        StepVerifier.create(lifecycle.transitions().map(t -> t.chain().generation() + ":" + t.state()).take(5))
                .expectNext("0:CREATED", "0:STARTING", "0:READY", "1:CREATED", "1:STARTING")
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void reentrantTransitionFromASubscriberIsEmittedInOrder() {
        List<LifecycleState> seen = new CopyOnWriteArrayList<>();
        lifecycle.transitions().subscribe(t -> {
            seen.add(t.state());
            if (t.state() == READY) {
                lifecycle.transitionTo(SHUTTING_DOWN);
            }
        });
        lifecycle.transitionTo(STARTING);
        lifecycle.transitionTo(READY);

        assertThat(seen).containsExactly(CREATED, STARTING, READY, SHUTTING_DOWN);
    }

    @RepeatedTest(50)
    void concurrentWritersProduceOneChainEmittedInChainOrder() throws Exception {
        Instant start = Instant.parse("2026-01-01T10:00:00Z");
        Lifecycle shared = Lifecycle.create(new MutableClock(start), CHAIN);
        List<LifecycleTransition> emitted = new CopyOnWriteArrayList<>();
        shared.transitions().subscribe(emitted::add);
        LifecycleState[] attempts = {STARTING, READY, SHUTTING_DOWN, OFF};
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread thread = new Thread(() -> {
                awaitQuietly(go);
                for (LifecycleState state : attempts) {
                    try {
                        shared.transitionTo(state);
                    } catch (IllegalStateException refused) {
                        // another thread got there first: exactly what the check is for
                    }
                }
            });
            threads.add(thread);
            thread.start();
        }
        go.countDown();
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        }

        List<LifecycleTransition> chain = shared.chain();
        assertThat(emitted).isEqualTo(chain);
        for (int i = 1; i < chain.size(); i++) {
            assertThat(chain.get(i).seq()).isEqualTo(i);
            assertThat(chain.get(i - 1).state().canAdvanceTo(chain.get(i).state())).isTrue();
            assertThat(chain.get(i).changedAt()).isAfter(chain.get(i - 1).changedAt());
        }
        assertThat(shared.current().state()).isEqualTo(OFF);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
