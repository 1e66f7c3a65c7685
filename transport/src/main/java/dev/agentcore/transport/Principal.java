package dev.agentcore.transport;

import dev.agentcore.core.AgentId;

/** Who a connection authenticated as in SETUP. */
sealed interface Principal {

    /** No credential: only the exchange route answers. */
    record Anonymous() implements Principal {
    }

    /** An agent whose session token is bound to one row. */
    record Agent(AgentId agent) implements Principal {
    }

    /** An agent whose connection token authenticates it for one workspace, across its rows (protocol v2). */
    record Workspace(String name) implements Principal {
    }

    /** An administrator: builds, workspaces, watch. */
    record Admin() implements Principal {
    }
}
