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
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.Disposable;

/**
 * Found by the storm at 10,000 agents (2026-11-29): agents exchanging their identities keep every
 * shared connection busy with reads and token writes, and acknowledged updates must not wait
 * behind them. The writer's connection is its own.
 */
class WriterConnectionTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    /** Far below the pool's 30 s acquire limit: a write waiting for a shared connection misses it. */
    private static final Duration PROMPTLY = Duration.ofSeconds(5);

    @TempDir
    Path directory;

    static Stream<Arguments> dialects() {
        return Stream.of(Dialect.values()).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dialects")
    void anUpdateIsWrittenWhileEverySharedConnectionIsBusy(Dialect dialect) {
        ConnectionFactory database = TestDatabases.connectionFactory(dialect, directory);
        SteppedConnectionFactory stepped = new SteppedConnectionFactory(database);
        R2dbcAgentStore store = R2dbcAgentStore.open(stepped, database, dialect).block(DEADLINE);
        List<SteppedConnectionFactory.Hold> holds = new ArrayList<>();
        List<Disposable> reads = new ArrayList<>();
        try {
            AgentRow created = store.startBuild("ws", 1, Instant.parse("2026-01-01T10:00:00Z")).block(DEADLINE);
            // Every shared connection taken by a read held at its statement.
            int shared = R2dbcAgentStore.sharedConnections(dialect);
            holds.addAll(stepped.holdEachAtItsStatement(shared, () -> reads.add(store.findRow(created.agentId()).subscribe())));
            assertThat(store.connectionsInUse()).as(store.state()).isEqualTo(shared);

            Instant at = created.createdAt().plusMillis(10);
            AgentRow starting = new AgentRow(created.agentId(), created.workspace(), created.buildNumber(),
                    created.createdAt(), LifecycleState.STARTING, at, null, new ChainId("incarnation", 0), 1, true, false,
                    created.version() + 1, 1);
            Boolean written = store.compareAndSet(created, starting).block(PROMPTLY);

            assertThat(written).as("written while the shared connections were busy; %s", store.state()).isTrue();
            holds.forEach(SteppedConnectionFactory.Hold::release);
            assertThat(store.findRow(created.agentId()).block(DEADLINE)).isEqualTo(starting);
        } finally {
            holds.forEach(SteppedConnectionFactory.Hold::release);
            reads.forEach(Disposable::dispose);
            store.close().block(DEADLINE);
        }
    }
}
