package dev.agentcore.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.store.R2dbcAgentStore.Dialect;
import io.r2dbc.spi.ConnectionFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The reproduction of the lost-write defects: a write whose caller is cancelled while the write
 * is held at one of its steps (acquire, begin, execute, result, commit, rollback, close). Once a
 * store has taken a write, the write must run to its end whatever the caller does, be published
 * on {@code changes()}, and leave no connection taken; the store must go on writing.
 */
class CancelledWriteTest {

    private static final Duration DEADLINE = Duration.ofSeconds(20);
    private static final ChainId CHAIN = new ChainId("incarnation-1", 0);

    @TempDir
    Path directory;
    private R2dbcAgentStore store;
    private Disposable watching;

    enum Write { COMPARE_AND_SET, START_BUILD, STOP_BUILD }

    static Stream<Arguments> cases() {
        return Stream.of(Dialect.values()).flatMap(dialect -> Stream.of(Write.values())
                .flatMap(write -> SteppedConnectionFactory.STEPS.stream().map(step -> Arguments.of(dialect, write, step))));
    }

    @AfterEach
    void closeStore() {
        if (watching != null) {
            watching.dispose();
        }
        if (store != null) {
            store.close().block(DEADLINE);
        }
    }

    @ParameterizedTest(name = "{0} {1} cancelled at {2}")
    @MethodSource("cases")
    void aWriteWhoseCallerIsCancelledAtAnyStepRunsToItsEndAndIsPublished(Dialect dialect, Write write, String step) {
        ConnectionFactory database = TestDatabases.connectionFactory(dialect, directory);
        SteppedConnectionFactory stepped = new SteppedConnectionFactory(database);
        store = R2dbcAgentStore.open(stepped, database, dialect).block(DEADLINE);
        AgentRow created = store.startBuild("ws", 1, Instant.parse("2026-01-01T10:00:00Z")).block(DEADLINE);
        List<AgentRow> published = new CopyOnWriteArrayList<>();
        watching = store.changes().subscribe(published::add, error -> published.add(null));
        awaitIdle();

        SteppedConnectionFactory.Hold hold = stepped.holdAt(step);
        Sinks.Empty<Void> ended = Sinks.empty();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Disposable caller = writeOf(write, created).doFinally(signal -> ended.tryEmitEmpty()).subscribe(
                ignored -> { }, failures::add);
        Boolean reached = Mono.firstWithSignal(hold.reached().thenReturn(true), ended.asMono().thenReturn(false))
                .block(DEADLINE);
        if (Boolean.TRUE.equals(reached)) {
            caller.dispose();
            hold.release();
        }
        stepped.disarm();
        awaitIdle();
        assertThat(failures).as("the write's caller saw no failure").isEmpty();

        switch (write) {
            case COMPARE_AND_SET -> {
                AgentRow written = starting(created);
                assertThat(store.findRow(created.agentId()).block(DEADLINE)).as("the write ran to its end").isEqualTo(written);
                awaitPublished(published, written);
            }
            case START_BUILD -> {
                List<AgentRow> rows = store.rows("ws", 10).collectList().block(DEADLINE);
                assertThat(rows).as("the build ran to its end").hasSize(2);
                assertThat(rows.get(1)).isEqualTo(created.retired());
                awaitPublished(published, created.retired());
                awaitPublished(published, rows.get(0));
            }
            case STOP_BUILD -> {
                assertThat(store.findRow(created.agentId()).block(DEADLINE)).as("the stop ran to its end")
                        .isEqualTo(created.retired());
                awaitPublished(published, created.retired());
            }
        }
        // And the store goes on writing.
        AgentRow latest = store.latestRow("ws").block(DEADLINE);
        AgentRow next = store.startBuild("ws", 1, Instant.parse("2026-01-01T10:00:01Z")).block(DEADLINE);
        assertThat(next.buildNumber()).isEqualTo(latest.buildNumber() + 1);
        awaitIdle();
    }

    private Mono<?> writeOf(Write write, AgentRow created) {
        return switch (write) {
            case COMPARE_AND_SET -> store.compareAndSet(created, starting(created));
            case START_BUILD -> store.startBuild("ws", 1, Instant.parse("2026-01-01T10:00:00.5Z"));
            case STOP_BUILD -> store.stopBuild("ws");
        };
    }

    private static AgentRow starting(AgentRow created) {
        Instant at = created.createdAt().plusMillis(10);
        return new AgentRow(created.agentId(), created.workspace(), created.buildNumber(), created.createdAt(),
                LifecycleState.STARTING, at, null, CHAIN, 1, true, false, created.version() + 1, 1);
    }


    /** Waits, with a deadline, until no pooled connection is taken. */
    private void awaitIdle() {
        Flux.interval(Duration.ofMillis(20)).map(tick -> store.connectionsInUse())
                .filter(inUse -> inUse == 0).next()
                .timeout(DEADLINE, Mono.error(() -> new AssertionError(
                        "connections still taken after " + DEADLINE + ": " + store.connectionsInUse())))
                .block();
    }

    private static void awaitPublished(List<AgentRow> published, AgentRow row) {
        Flux.interval(Duration.ofMillis(20)).filter(tick -> published.contains(row)).next()
                .timeout(DEADLINE, Mono.error(() -> new AssertionError(
                        "committed but never published on changes(): " + row + "\npublished: " + published)))
                .block();
    }
}
