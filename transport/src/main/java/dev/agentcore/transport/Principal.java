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

    /** An administrator: builds, workspaces, watch. */
    record Admin() implements Principal {
    }
}
