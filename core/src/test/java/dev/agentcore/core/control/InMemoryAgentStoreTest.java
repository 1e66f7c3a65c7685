package dev.agentcore.core.control;

import dev.agentcore.core.testing.AgentStoreContract;

class InMemoryAgentStoreTest extends AgentStoreContract {

    private InMemoryWorkspaceStore workspaces;

    @Override
    protected AgentStore newAgentStore() {
        workspaces = new InMemoryWorkspaceStore();
        return new InMemoryAgentStore();
    }

    @Override
    protected WorkspaceStore workspaceStore() {
        return workspaces;
    }
}
