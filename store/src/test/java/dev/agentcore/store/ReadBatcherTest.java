package dev.agentcore.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class ReadBatcherTest {

    private static final Duration DEADLINE = Duration.ofSeconds(5);

    /** A read of all keys that waits until the test answers it: the keys of each batch, in order. */
    private static final class HeldReads implements Function<List<String>, Mono<Map<String, Integer>>> {
        final List<List<String>> batches = new ArrayList<>();
        final List<Sinks.One<Map<String, Integer>>> answers = new ArrayList<>();

        @Override
        public synchronized Mono<Map<String, Integer>> apply(List<String> keys) {
            batches.add(keys);
            Sinks.One<Map<String, Integer>> answer = Sinks.one();
            answers.add(answer);
            return answer.asMono();
        }

        /** Answers batch {@code batch} with each key's length, leaving out "absent". */
        synchronized void answer(int batch) {
            Map<String, Integer> found = batches.get(batch).stream().filter(key -> !key.equals("absent"))
                    .collect(Collectors.toMap(key -> key, String::length));
            assertThat(answers.get(batch).tryEmitValue(found).isSuccess()).isTrue();
        }

        synchronized void fail(int batch) {
            assertThat(answers.get(batch).tryEmitError(new IllegalStateException("read " + batch + " failed")).isSuccess())
                    .isTrue();
        }
    }

    @Test
    void readsAskedWhileABatchRunsAreReadTogetherInTheNextEachGettingItsOwnValue() {
        HeldReads reads = new HeldReads();
        ReadBatcher<String, Integer> batcher = new ReadBatcher<>(reads, 10, 1);

        Mono<Integer> first = asked(batcher, "a");
        List<Mono<Integer>> waiting = List.of("bb", "ccc", "bb", "absent").stream()
                .map(key -> asked(batcher, key)).toList();

        assertThat(reads.batches).containsExactly(List.of("a"));
        reads.answer(0);
        StepVerifier.create(first).expectNext(1).expectComplete().verify(DEADLINE);
        assertThat(reads.batches).as("one batch, each key once").containsExactly(List.of("a"), List.of("bb", "ccc", "absent"));
        reads.answer(1);
        StepVerifier.create(waiting.get(0)).expectNext(2).expectComplete().verify(DEADLINE);
        StepVerifier.create(waiting.get(1)).expectNext(3).expectComplete().verify(DEADLINE);
        StepVerifier.create(waiting.get(2)).expectNext(2).expectComplete().verify(DEADLINE);
        StepVerifier.create(waiting.get(3)).as("a key left out is answered empty").expectComplete().verify(DEADLINE);
    }

    @Test
    void noMoreThanTheConcurrencyRunAtOnceAndABatchTakesAtMostMaxBatchKeys() {
        HeldReads reads = new HeldReads();
        ReadBatcher<String, Integer> batcher = new ReadBatcher<>(reads, 2, 2);

        List<Mono<Integer>> asked = List.of("a", "b", "c", "d", "e", "f").stream().map(key -> asked(batcher, key)).toList();

        assertThat(reads.batches).containsExactly(List.of("a"), List.of("b"));
        reads.answer(1);
        assertThat(reads.batches).containsExactly(List.of("a"), List.of("b"), List.of("c", "d"));
        reads.answer(0);
        reads.answer(2);
        assertThat(reads.batches).containsExactly(List.of("a"), List.of("b"), List.of("c", "d"), List.of("e", "f"));
        reads.answer(3);
        for (int i = 0; i < asked.size(); i++) {
            StepVerifier.create(asked.get(i)).expectNext(1).expectComplete().verify(DEADLINE);
        }
    }

    @Test
    void aFailedBatchFailsItsReadsAndTheNextBatchRuns() {
        HeldReads reads = new HeldReads();
        ReadBatcher<String, Integer> batcher = new ReadBatcher<>(reads, 10, 1);

        Mono<Integer> failing = asked(batcher, "a");
        Mono<Integer> next = asked(batcher, "bb");
        reads.fail(0);

        StepVerifier.create(failing).expectErrorMessage("read 0 failed").verify(DEADLINE);
        assertThat(reads.batches).containsExactly(List.of("a"), List.of("bb"));
        reads.answer(1);
        StepVerifier.create(next).expectNext(2).expectComplete().verify(DEADLINE);
    }

    @Test
    void aCallerThatCancelsOnlyStopsWaiting() {
        HeldReads reads = new HeldReads();
        ReadBatcher<String, Integer> batcher = new ReadBatcher<>(reads, 10, 1);

        asked(batcher, "a");
        batcher.read("bb").subscribe().dispose();
        Mono<Integer> kept = asked(batcher, "ccc");
        reads.answer(0);
        reads.answer(1);

        assertThat(reads.batches).containsExactly(List.of("a"), List.of("bb", "ccc"));
        StepVerifier.create(kept).expectNext(3).expectComplete().verify(DEADLINE);
    }

    /** A read asked now and kept: its answer (or error) is replayed to whoever verifies it later. */
    private static Mono<Integer> asked(ReadBatcher<String, Integer> batcher, String key) {
        Mono<Integer> read = batcher.read(key).cache();
        read.subscribe(value -> { }, error -> { });
        return read;
    }
}
