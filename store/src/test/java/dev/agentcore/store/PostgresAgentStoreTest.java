package dev.agentcore.store;

import dev.agentcore.core.control.AgentStore;
import dev.agentcore.core.control.WorkspaceStore;
import dev.agentcore.core.testing.AgentStoreContract;
import org.junit.jupiter.api.AfterEach;

class PostgresAgentStoreTest extends AgentStoreContract {

    private R2dbcAgentStore store;

    @Override
    protected AgentStore newAgentStore() {
        store = R2dbcAgentStore.open(TestDatabases.newPostgresDatabase()).block(TIMEOUT);
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
