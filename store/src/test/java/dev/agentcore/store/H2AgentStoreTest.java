package dev.agentcore.store;

import dev.agentcore.core.control.AgentStore;
import dev.agentcore.core.control.WorkspaceStore;
import dev.agentcore.core.testing.AgentStoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

class H2AgentStoreTest extends AgentStoreContract {

    @TempDir
    Path directory;
    private R2dbcAgentStore store;

    @Override
    protected AgentStore newAgentStore() {
        store = R2dbcAgentStore.openH2File(directory).block(TIMEOUT);
        return store;
    }

    @Override
    protected WorkspaceStore workspaceStore() {
        return store;
    }

    @AfterEach
    void close() {
        store.dispose();
    }
}
