package dev.agentcore.store;

import static dev.agentcore.store.TestDatabases.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.Script;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import io.r2dbc.spi.ConnectionFactories;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
    void aDatabaseOfSchemaTwoKeepsItsScriptsAsEveryRowsFirstRevision() {
        String url = TestDatabases.newPostgresDatabase();
        Flux.usingWhen(ConnectionFactories.get(url).create(),
                        connection -> Flux.concat(
                                Flux.fromIterable(Migrations.VERSIONS.subList(0, 2)).concatMap(Flux::fromIterable),
                                Flux.just("CREATE TABLE agentcore_schema (version INT PRIMARY KEY, applied_at_nanos BIGINT NOT NULL)",
                                        "INSERT INTO agentcore_schema VALUES (1, 0), (2, 0)",
                                        "INSERT INTO workspaces VALUES ('ws', 'dev-agent', 'hash')",
                                        "INSERT INTO workspace_scripts VALUES ('ws', 'start', 0, 'echo a', 30000, TRUE), "
                                                + "('ws', 'start', 1, 'echo b', 1500, FALSE), ('ws', 'stop', 0, 'echo c', 5000, FALSE)",
                                        "INSERT INTO agent_rows VALUES ('row-1', 'ws', 1, 0, 'READY', 1, 2, NULL, NULL, 0, "
                                                + "TRUE, TRUE, 3)"))
                                .concatMap(sql -> Flux.from(connection.createStatement(sql).execute())
                                        .flatMap(result -> Mono.from(result.getRowsUpdated()))),
                        connection -> connection.close())
                .blockLast(TIMEOUT);

        R2dbcAgentStore store = R2dbcAgentStore.open(url).block(TIMEOUT);
        try {
            AgentRow row = store.findRow(AgentId.of("row-1")).block(TIMEOUT);
            assertThat(row.scriptsRevision()).isEqualTo(1);
            assertThat(row.version()).isEqualTo(3);
            assertThat(store.scriptsRevision("ws").block(TIMEOUT)).isEqualTo(1);
            assertThat(store.findWorkspace("ws", 1).block(TIMEOUT)).isEqualTo(new Workspace(
                    "ws", "dev-agent",
                    List.of(new Script("echo a", Duration.ofSeconds(30), true),
                            new Script("echo b", Duration.ofMillis(1500), false)),
                    List.of(new Script("echo c", Duration.ofSeconds(5), false))));
            assertThat(new AccessService(store, store).manifest(row.agentId())
                    .block(TIMEOUT).startupScripts()).extracting(Script::command)
                    .containsExactly("echo a", "echo b");
        } finally {
            store.dispose();
        }
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
