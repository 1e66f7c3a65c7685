package dev.agentcore.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.store.R2dbcAgentStore.Dialect;
import io.r2dbc.spi.ConnectionFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Found in ChaosTest's log (2026-11-30): a store closed while a read waited for a connection closed
 * its pool under that read, which failed with reactor-pool's PoolShutdownException; its caller had
 * gone, so Reactor logged the error as dropped. {@code close()} now lets the reads it has started
 * end before the pools close, and refuses new ones.
 */
class StoreCloseTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @TempDir
    Path directory;

    private final List<Throwable> dropped = new CopyOnWriteArrayList<>();

    static Stream<Arguments> dialects() {
        return Stream.of(Dialect.values()).map(Arguments::of);
    }

    @AfterEach
    void resetHooks() {
        Hooks.resetOnErrorDropped();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dialects")
    void closeLetsTheReadsInFlightEndAndRefusesNewOnes(Dialect dialect) {
        Hooks.onErrorDropped(dropped::add);
        ConnectionFactory database = TestDatabases.connectionFactory(dialect, directory);
        SteppedConnectionFactory stepped = new SteppedConnectionFactory(database);
        R2dbcAgentStore store = R2dbcAgentStore.open(stepped, database, dialect).block(DEADLINE);
        List<SteppedConnectionFactory.Hold> holds = new ArrayList<>();
        try {
            AgentRow created = store.startBuild("ws", 1, Instant.parse("2026-01-01T10:00:00Z")).block(DEADLINE);
            // Every shared connection taken by a read held at its statement, and one more read
            // waiting for a connection; every caller gone.
            holds.addAll(stepped.holdEachAtItsStatement(R2dbcAgentStore.sharedConnections(dialect),
                    () -> store.findRow(created.agentId()).subscribe().dispose()));
            store.findRow(created.agentId()).subscribe().dispose();

            CompletableFuture<Void> closed = store.close().toFuture();

            StepVerifier.create(store.findRow(created.agentId()))
                    .expectErrorSatisfies(refused -> assertThat(refused).isInstanceOf(AgentcoreException.class)
                            .extracting(error -> ((AgentcoreException) error).code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED))
                    .verify(DEADLINE);
            assertThat(closed).as("closed with reads held on every connection").isNotDone();

            holds.forEach(SteppedConnectionFactory.Hold::release);
            StepVerifier.create(Mono.fromFuture(closed)).expectComplete().verify(DEADLINE);
            assertThat(dropped).as("errors dropped while closing").isEmpty();
        } finally {
            holds.forEach(SteppedConnectionFactory.Hold::release);
            store.close().block(DEADLINE);
        }
    }
}
