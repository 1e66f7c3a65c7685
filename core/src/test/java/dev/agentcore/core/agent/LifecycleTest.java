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
import java.util.concurrent.atomic.AtomicLong;
import java.util.Random;
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
    void chainSnapshotsAreTheLifecyclesOwnListsNotCopies() {
        lifecycle.transitionTo(STARTING);

        StepVerifier.create(lifecycle.chainSnapshots())
                .assertNext(snapshot -> assertThat(snapshot).isSameAs(lifecycle.chain()).hasSize(2))
                .then(() -> lifecycle.transitionTo(READY))
                .assertNext(snapshot -> assertThat(snapshot).isSameAs(lifecycle.chain())
                        .extracting(LifecycleTransition::state).containsExactly(CREATED, STARTING, READY))
                .then(lifecycle::reinitialize)
                .assertNext(snapshot -> assertThat(snapshot).singleElement()
                        .extracting(LifecycleTransition::chain).isEqualTo(CHAIN.nextGeneration()))
                .thenCancel()
                .verify(Duration.ofSeconds(5));
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
        // A subscriber from before sees both generations; one from after, only the current one.
        StepVerifier.create(lifecycle.transitions().map(t -> t.chain().generation() + ":" + t.state()).take(3))
                .expectNext("1:CREATED", "1:STARTING")
                .then(() -> lifecycle.transitionTo(READY))
                .expectNext("1:READY")
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aSubscriberFromBeforeAReinitializationSeesEveryGeneration() {
        List<String> seen = new CopyOnWriteArrayList<>();
        lifecycle.transitions().map(t -> t.chain().generation() + ":" + t.state()).subscribe(seen::add);
        lifecycle.transitionTo(STARTING);
        lifecycle.reinitialize();
        lifecycle.transitionTo(STARTING);

        assertThat(seen).containsExactly("0:CREATED", "0:STARTING", "1:CREATED", "1:STARTING");
    }

    @Test
    void anAgentThatReinitializesForeverHoldsOneChainNotItsHistory() {
        AtomicLong received = new AtomicLong();
        lifecycle.transitions().subscribe(t -> received.incrementAndGet());
        int generations = 200_000;
        for (int i = 0; i < generations; i++) {
            lifecycle.transitionTo(STARTING);
            lifecycle.transitionTo(READY);
            lifecycle.reinitialize();
        }

        assertThat(received.get()).isEqualTo(1 + 3L * generations);
        assertThat(lifecycle.chain()).hasSize(1);
        // What a new subscriber is given is all the lifecycle still holds: the current chain.
        StepVerifier.create(lifecycle.transitions().map(t -> t.chain().generation() + ":" + t.state()))
                .expectNext(generations + ":CREATED")
                .expectNoEvent(Duration.ofMillis(50))
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    @RepeatedTest(20)
    void subscribersJoiningWhileWritersRunMissNothingAndRepeatNothing() throws Exception {
        long seed = System.nanoTime();
        System.out.println("LifecycleTest subscribers joining: seed " + seed);
        Random random = new Random(seed);
        Lifecycle shared = Lifecycle.create(new MutableClock(Instant.parse("2026-01-01T10:00:00Z")), CHAIN);
        List<LifecycleTransition> everything = new CopyOnWriteArrayList<>();
        shared.transitions().subscribe(everything::add);
        List<List<LifecycleTransition>> late = new CopyOnWriteArrayList<>();
        LifecycleState[] walk = {STARTING, READY, SHUTTING_DOWN, OFF};
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            long writerSeed = random.nextLong();
            threads.add(new Thread(() -> {
                Random mine = new Random(writerSeed);
                awaitQuietly(go);
                for (int i = 0; i < 300; i++) {
                    try {
                        if (mine.nextInt(5) == 0) {
                            shared.reinitialize();
                        } else {
                            shared.transitionTo(walk[mine.nextInt(walk.length)]);
                        }
                    } catch (IllegalStateException refused) {
                        // another writer moved first
                    }
                }
            }));
        }
        threads.add(new Thread(() -> {
            awaitQuietly(go);
            for (int i = 0; i < 50; i++) {
                List<LifecycleTransition> received = new CopyOnWriteArrayList<>();
                late.add(received);
                shared.transitions().subscribe(received::add);
            }
        }));
        threads.forEach(Thread::start);
        go.countDown();
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        }

        for (List<LifecycleTransition> received : late) {
            assertThat(received).as("seed " + seed).isNotEmpty();
            assertThat(received.get(0).seq()).as("seed %d: starts at its chain's CREATED", seed).isZero();
            int from = everything.indexOf(received.get(0));
            assertThat(received).as("seed " + seed).isEqualTo(everything.subList(from, everything.size()));
        }
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
