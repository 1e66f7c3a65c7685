package dev.agentcore.store;

import static dev.agentcore.store.TestDatabases.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.LifecycleService;
import io.r2dbc.spi.ConnectionFactories;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class MigrationsTest {

    @TempDir
    Path directory;

    private static void startingTwiceChangesNothingTheSecondTime(Supplier<R2dbcAgentStore> open) {
        R2dbcAgentStore first = open.get();
        AgentRow row = LifecycleService.builder(first).build().startBuild("ws").block(TIMEOUT);
        assertThat(first.schemaVersion().block(TIMEOUT)).isEqualTo(Migrations.LATEST);
        first.dispose();

        R2dbcAgentStore second = open.get();
        assertThat(second.schemaVersion().block(TIMEOUT)).isEqualTo(Migrations.LATEST);
        assertThat(second.findRow(row.agentId()).block(TIMEOUT)).isEqualTo(row);
        second.dispose();
    }

    @Test
    void startingTwiceOnH2ChangesNothingTheSecondTime() {
        startingTwiceChangesNothingTheSecondTime(() -> R2dbcAgentStore.openH2File(directory).block(TIMEOUT));
    }

    @Test
    void startingTwiceOnPostgresChangesNothingTheSecondTime() {
        String url = TestDatabases.newPostgresDatabase();
        startingTwiceChangesNothingTheSecondTime(() -> R2dbcAgentStore.open(url).block(TIMEOUT));
    }

    @Test
    void replicasStartingTogetherOnOneFreshDatabaseMigrateItOnce() {
        String url = TestDatabases.newPostgresDatabase();
        StepVerifier.create(Flux.merge(R2dbcAgentStore.open(url), R2dbcAgentStore.open(url), R2dbcAgentStore.open(url))
                        .doOnNext(R2dbcAgentStore::dispose))
                .expectNextCount(3)
                .verifyComplete();
    }

    @Test
    void aSchemaNewerThanTheCodeIsRefused() {
        String url = TestDatabases.newPostgresDatabase();
        R2dbcAgentStore.open(url).block(TIMEOUT).dispose();
        Flux.usingWhen(ConnectionFactories.get(url).create(),
                        connection -> Flux.from(connection.createStatement(
                                "INSERT INTO agentcore_schema (version, applied_at_nanos) VALUES (999, 0)").execute())
                                .flatMap(result -> Mono.from(result.getRowsUpdated())),
                        connection -> connection.close())
                .blockLast(TIMEOUT);

        StepVerifier.create(R2dbcAgentStore.open(url))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("version 999")
                        .hasMessageContaining("newer than this agentcore knows"))
                .verify(TIMEOUT);
    }

    @Test
    void anUrlOfAnotherDatabaseIsRefusedClearly() {
        StepVerifier.create(R2dbcAgentStore.open("r2dbc:mysql://user:secret@db/agentcore"))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("r2dbc:postgresql")
                        .hasMessageNotContaining("secret"))
                .verify(TIMEOUT);
    }
}
