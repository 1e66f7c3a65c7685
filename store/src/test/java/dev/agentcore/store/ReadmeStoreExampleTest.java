package dev.agentcore.store;

import static dev.agentcore.store.TestDatabases.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.core.testing.ReadmeSnippets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's store snippet, compiled and run against an H2 file and a real PostgreSQL server. */
class ReadmeStoreExampleTest {

    @TempDir
    Path dataDirectory;

    @Test
    void storeSnippetOpensBothStoresAndTheServicesWorkOnThem() {
        String postgresUrl = TestDatabases.newPostgresDatabase();
        // README-BEGIN store
        // One control plane, no database server: an H2 file in dataDirectory (created if missing).
        R2dbcAgentStore store = R2dbcAgentStore.openH2File(dataDirectory).block();
        // Several control-plane replicas: every replica opens the same PostgreSQL database, for
        // example postgresUrl = "r2dbc:postgresql://agentcore:secret@db.example:5432/agentcore".
        R2dbcAgentStore shared = R2dbcAgentStore.open(postgresUrl).block();

        LifecycleService lifecycle = LifecycleService.builder(store).build();
        AccessService access = new AccessService(store, store);
        // README-END store
        try {
            assertThat(access.createWorkspace(Workspace.named("my-workspace")).block(TIMEOUT)).isNotBlank();
            assertThat(lifecycle.startBuild("my-workspace").block(TIMEOUT).state()).isEqualTo(LifecycleState.CREATED);
            assertThat(shared.schemaVersion().block(TIMEOUT)).as("PostgreSQL migrated like H2")
                    .isEqualTo(store.schemaVersion().block(TIMEOUT));
            LifecycleService onPostgres = LifecycleService.builder(shared).build();
            new AccessService(shared, shared).createWorkspace(Workspace.named("my-workspace")).block(TIMEOUT);
            assertThat(onPostgres.startBuild("my-workspace").block(TIMEOUT).buildNumber()).isEqualTo(1);
        } finally {
            store.dispose();
            shared.dispose();
        }
    }

    @Test
    void readmeShowsTheSnippetAsCompiled() {
        ReadmeSnippets.assertReadmeShows(Path.of("src/test/java/dev/agentcore/store/ReadmeStoreExampleTest.java"), "store");
    }
}
