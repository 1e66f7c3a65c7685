package dev.agentcore.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.control.AgentRow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** The writer alone, over batches this test commits by hand: grouping, bounds, cancellation, close. */
class RowWriterTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** Batches that wait until the test commits (or fails) them, one at a time. */
    static final class HandCommittedBatches implements RowWriter.Batches {
        final List<List<RowWriter.CompareAndSet>> batches = new CopyOnWriteArrayList<>();
        final List<Sinks.One<boolean[]>> commits = new CopyOnWriteArrayList<>();
        final List<List<RowWriter.BuildWrite>> builds = new CopyOnWriteArrayList<>();
        final List<List<RowWriter.SaveToken>> tokens = new CopyOnWriteArrayList<>();

        @Override
        public Mono<boolean[]> compareAndSets(List<RowWriter.CompareAndSet> batch) {
            Sinks.One<boolean[]> commit = Sinks.one();
            batches.add(batch);
            commits.add(commit);
            return commit.asMono();
        }

        @Override
        public Mono<List<List<AgentRow>>> builds(List<RowWriter.BuildWrite> batch) {
            builds.add(batch);
            return Mono.just(batch.stream().map(write -> List.<AgentRow>of()).toList());
        }

        @Override
        public Mono<Void> tokens(List<RowWriter.SaveToken> batch) {
            tokens.add(batch);
            return Mono.empty();
        }

        @Override
        public Mono<Void> forgetCredentials(List<RowWriter.ForgetCredentials> batch) {
            return Mono.empty();
        }

        void commit(int batch, boolean... written) {
            assertThat(commits.get(batch).tryEmitValue(written).isSuccess()).isTrue();
        }

        void fail(int batch) {
            assertThat(commits.get(batch).tryEmitError(new IllegalStateException("disk gone")).isSuccess()).isTrue();
        }
    }

    private final HandCommittedBatches batches = new HandCommittedBatches();
    private final List<AgentRow> published = new CopyOnWriteArrayList<>();

    private RowWriter writer(int maxBatch, int maxQueued) {
        return new RowWriter(batches, published::addAll, maxBatch, maxQueued);
    }

    private static RowWriter.CompareAndSet write(String row) {
        AgentRow created = AgentRow.created(AgentId.of(row), "ws-" + row, 1, Instant.EPOCH, 1);
        AgentRow next = new AgentRow(created.agentId(), created.workspace(), 1, Instant.EPOCH, created.state(), null, null,
                null, 0, true, false, 2, 1);
        return new RowWriter.CompareAndSet(created, next);
    }

    @Test
    void waitingWritesAreCommittedTogetherOnePerRowAndASecondWriteOfARowWaitsForTheFirst() {
        RowWriter writer = writer(3, 100);
        List<Mono<Object>> outcomes = new ArrayList<>();
        for (String row : List.of("a", "b", "b", "c", "d", "e")) {
            outcomes.add(writer.submit(write(row)).cache());
            outcomes.get(outcomes.size() - 1).subscribe();
        }

        assertThat(batches.batches).hasSize(1); // the first write alone: the writer was idle
        batches.commit(0, true);
        // Then every waiting write, up to 3 and one per row: the second b waits for the next batch.
        assertThat(batches.batches.get(1)).extracting(w -> w.expected().agentId().value()).containsExactly("b", "c", "d");
        batches.commit(1, true, true, true);
        assertThat(batches.batches.get(2)).extracting(w -> w.expected().agentId().value()).containsExactly("b", "e");
        batches.commit(2, false, true);

        assertThat(outcomes).extracting(outcome -> outcome.block(TIMEOUT))
                .containsExactly(true, true, false, true, true, true);
        assertThat(published).extracting(row -> row.agentId().value()).containsExactly("a", "b", "c", "d", "e");
        assertThat(writer.stats().batches()).isEqualTo(3);
        assertThat(writer.stats().batchSizeAt(0.5)).isEqualTo(2);
        assertThat(writer.stats().batchSizeAt(1.0)).isEqualTo(3);
    }

    @Test
    void credentialsWaitingTogetherShareOneCommitApartFromRowWrites() {
        RowWriter writer = writer(10, 100);
        Mono<Object> held = writer.submit(write("x")).cache(); // holds the writer while the rest queue up
        held.subscribe();
        List<Mono<Object>> saved = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            RowWriter.TokenKind kind = i % 2 == 0 ? RowWriter.TokenKind.CONNECTION : RowWriter.TokenKind.SESSION;
            saved.add(writer.submit(new RowWriter.SaveToken(kind, "hash-" + i, "owner-" + i)).cache());
            saved.get(i).subscribe();
        }
        Mono<Object> after = writer.submit(write("y")).cache();
        after.subscribe();

        batches.commit(0, true);

        assertThat(batches.tokens).as("five exchanges, one commit").singleElement()
                .satisfies(batch -> assertThat(batch).extracting(RowWriter.SaveToken::tokenHash)
                        .containsExactly("hash-0", "hash-1", "hash-2", "hash-3", "hash-4"));
        assertThat(saved).extracting(outcome -> outcome.block(TIMEOUT)).containsOnly(true);
        assertThat(batches.batches).as("the row write after them is a batch of its own").hasSize(2);
        batches.commit(1, true);
        assertThat(after.block(TIMEOUT)).isEqualTo(true);
    }

    @Test
    void waitingBuildsAreCommittedTogetherOnePerWorkspaceAcrossTheCompareAndSetsBetweenThem() {
        RowWriter writer = writer(10, 100);
        Mono<Object> held = writer.submit(write("x")).cache(); // holds the writer while the rest queue up
        held.subscribe();
        List<RowWriter.Write> queued = List.of(new RowWriter.StartBuild("a", 1, Instant.EPOCH),
                new RowWriter.StopBuild("b"), new RowWriter.StartBuild("a", 1, Instant.EPOCH), write("y"),
                new RowWriter.StopBuild("c"));
        queued.forEach(write -> writer.submit(write).subscribe());

        batches.commit(0, true);

        // Builds as they came, a second build of "a" after the first; the compare-and-set in between
        // does not cut the batch short.
        assertThat(batches.builds).extracting(batch -> batch.stream().map(RowWriter.BuildWrite::workspace).toList())
                .containsExactly(List.of("a", "b", "c"), List.of("a"));
        assertThat(batches.batches.get(1)).extracting(w -> w.expected().agentId().value()).containsExactly("y");
    }

    @Test
    void noWritePassesAnOlderWriteOfItsWorkspace() {
        RowWriter writer = writer(10, 100);
        Mono<Object> held = writer.submit(write("x")).cache(); // holds the writer while the rest queue up
        held.subscribe();
        List<Mono<Object>> outcomes = new ArrayList<>();
        // A build of "a", then a replay onto ws-w's row, then a build of ws-w (which retires that row),
        // then a write of ws-v's row, then a build of ws-v.
        for (RowWriter.Write write : List.of(new RowWriter.StartBuild("a", 1, Instant.EPOCH), write("w"),
                new RowWriter.StartBuild("ws-w", 1, Instant.EPOCH), write("v"), new RowWriter.StartBuild("ws-v", 1, Instant.EPOCH))) {
            outcomes.add(writer.submit(write).cache());
            outcomes.get(outcomes.size() - 1).subscribe();
        }

        batches.commit(0, true);
        // The oldest write is a build: only "a" goes, as the builds of ws-w and ws-v would pass their rows' writes.
        assertThat(batches.builds).singleElement()
                .satisfies(batch -> assertThat(batch).extracting(RowWriter.BuildWrite::workspace).containsExactly("a"));
        // Then both row writes, before the builds that retire their rows.
        assertThat(batches.batches.get(1)).extracting(w -> w.expected().agentId().value()).containsExactly("w", "v");
        assertThat(batches.builds).hasSize(1);
        batches.commit(1, true, true);
        assertThat(batches.builds.get(1)).extracting(RowWriter.BuildWrite::workspace).containsExactly("ws-w", "ws-v");
        assertThat(outcomes).allSatisfy(outcome -> assertThat(outcome.block(TIMEOUT)).isNotNull());
    }

    @Test
    void aCallerThatCancelsOnlyStopsWaiting() {
        RowWriter writer = writer(10, 100);

        writer.submit(write("a")).subscribe().dispose();
        batches.commit(0, true);

        assertThat(published).extracting(row -> row.agentId().value()).containsExactly("a");
    }

    @Test
    void aFullQueueIsAnsweredResourceExhaustedAndLosesNothingItTook() {
        RowWriter writer = writer(10, 2);
        Mono<Object> first = writer.submit(write("a")).cache();
        first.subscribe(); // taken into a batch at once: the queue is empty again
        Mono<Object> second = writer.submit(write("b")).cache();
        second.subscribe();
        Mono<Object> third = writer.submit(write("c")).cache();
        third.subscribe();

        StepVerifier.create(writer.submit(write("d")))
                .expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(AgentcoreException.class,
                        refusal -> {
                            assertThat(refusal.code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
                            assertThat(refusal.getMessage()).contains("2 writes waiting");
                        }))
                .verify(TIMEOUT);
        batches.commit(0, true);
        batches.commit(1, true, true);
        assertThat(List.of(first, second, third)).extracting(outcome -> outcome.block(TIMEOUT))
                .containsExactly(true, true, true);
    }

    @Test
    void aFailedBatchFailsItsWritesAndTheWriterGoesOn() {
        RowWriter writer = writer(10, 100);
        Mono<Object> first = writer.submit(write("a")).cache();
        // Its failure is asserted below, through the cache; this subscription only sets the write going.
        first.subscribe(null, expectedFailure -> { });
        Mono<Object> second = writer.submit(write("b")).cache();
        second.subscribe();

        batches.fail(0);
        batches.commit(1, true);

        StepVerifier.create(first).expectErrorMessage("disk gone").verify(TIMEOUT);
        StepVerifier.create(second).expectNext(true).verifyComplete();
        assertThat(published).extracting(row -> row.agentId().value()).containsExactly("b");
    }

    @Test
    void closeRefusesNewWritesAndWaitsForTheTakenOnes() {
        RowWriter writer = writer(10, 100);
        Mono<Object> taken = writer.submit(write("a")).cache();
        taken.subscribe();
        Mono<Object> waiting = writer.submit(write("b")).cache();
        waiting.subscribe();

        AtomicBoolean closed = new AtomicBoolean();
        writer.close().subscribe(null, null, () -> closed.set(true));
        StepVerifier.create(writer.submit(write("c")))
                .expectErrorSatisfies(error -> assertThat(((AgentcoreException) error).code())
                        .isEqualTo(ErrorCode.RESOURCE_EXHAUSTED))
                .verify(TIMEOUT);
        assertThat(closed).as("closed while writes were in hand").isFalse();
        batches.commit(0, true);
        assertThat(closed).as("closed while writes were in hand").isFalse();
        batches.commit(1, true);

        assertThat(closed).isTrue();
        assertThat(List.of(taken, waiting)).extracting(outcome -> outcome.block(TIMEOUT)).containsExactly(true, true);
    }

    @Test
    void theNextBatchCommitsWhileOneIsPublishedAndCallersHearOnlyOnceTheirRowsArePublishedInCommitOrder()
            throws Exception {
        CountDownLatch publishingA = new CountDownLatch(1);
        CountDownLatch releaseA = new CountDownLatch(1);
        RowWriter writer = new RowWriter(batches, rows -> {
            if (rows.stream().anyMatch(row -> row.agentId().value().equals("a"))) {
                publishingA.countDown();
                try {
                    // Holds the publishing lane, on the thread that committed a's batch.
                    assertThat(releaseA.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            published.addAll(rows);
        }, 10, 100);
        List<Mono<Object>> outcomes = new ArrayList<>();
        for (String row : List.of("a", "b", "c")) {
            outcomes.add(writer.submit(write(row)).cache());
            outcomes.get(outcomes.size() - 1).subscribe();
        }
        ExecutorService committer = Executors.newSingleThreadExecutor();
        try {
            committer.submit(() -> batches.commit(0, true));
            assertThat(publishingA.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

            assertThat(batches.batches).as("the next batch began while a's rows are being published").hasSize(2);
            batches.commit(1, true, true);
            assertThat(published).as("b and c wait for a, committed first").isEmpty();
            assertThat(outcomes).allSatisfy(outcome -> assertThat(outcome.toFuture()).isNotDone());

            releaseA.countDown();
            assertThat(outcomes).extracting(outcome -> outcome.block(TIMEOUT)).containsExactly(true, true, true);
            assertThat(published).extracting(row -> row.agentId().value()).containsExactly("a", "b", "c");
        } finally {
            releaseA.countDown();
            committer.shutdownNow();
        }
    }
}
