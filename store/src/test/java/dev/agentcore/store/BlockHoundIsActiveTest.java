package dev.agentcore.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileInputStream;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** Proves that BlockHound watches this module's tests: a blocking read on a non-blocking thread fails. */
class BlockHoundIsActiveTest {

    @Test
    void blockingReadOnAParallelThreadIsCaught() {
        Mono<Integer> blocking = Mono.fromCallable(() -> {
            try (FileInputStream zeros = new FileInputStream("/dev/zero")) {
                return zeros.read(new byte[1]);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }).subscribeOn(Schedulers.parallel());

        StepVerifier.create(blocking)
                .expectErrorSatisfies(error -> assertThat(error.getClass().getName())
                        .isEqualTo("reactor.blockhound.BlockingOperationError"))
                .verify(Duration.ofSeconds(10));
    }
}
