package dev.agentcore.transport;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;

/** Who a connection authenticated as in SETUP. */
sealed interface Principal {

    /** No credential: only the exchange route answers. */
    record Anonymous() implements Principal {
    }

    /** An agent whose session token is bound to one row. */
    record Agent(AgentId agentId) implements Principal {
    }

    /** An agent whose connection token authenticates it for one workspace, across its rows (protocol v2). */
    record Workspace(String name) implements Principal {
    }

    /** An administrator: builds, workspaces, watch. */
    record Admin() implements Principal {
    }

    /** An administrator whose admin token was rotated since: refused everything. */
    record RotatedAdmin() implements Principal {
    }

    /** The row a session token (protocol v1) bound the connection to; UNAUTHENTICATED for any other principal. */
    static AgentId sessionRow(Principal principal) {
        if (principal instanceof Agent agent) {
            return agent.agentId();
        }
        throw new AgentcoreException(ErrorCode.UNAUTHENTICATED,
                "this route needs a session token in the SETUP frame: exchange the instance identity first");
    }

    /** The workspace a connection token (protocol v2) authenticated; UNAUTHENTICATED for any other principal. */
    static String connectionWorkspace(Principal principal) {
        if (principal instanceof Workspace workspace) {
            return workspace.name();
        }
        throw new AgentcoreException(ErrorCode.UNAUTHENTICATED,
                "this route needs a connection token in the SETUP frame: exchange the instance identity on "
                        + Routes.EXCHANGE_V2 + " first");
    }

    /** Returns if the principal is the admin; UNAUTHENTICATED otherwise. */
    static void requireAdmin(Principal principal) {
        if (principal instanceof RotatedAdmin) {
            throw adminTokenRotated();
        }
        if (!(principal instanceof Admin)) {
            throw new AgentcoreException(ErrorCode.UNAUTHENTICATED, "this route needs the admin token in the SETUP frame");
        }
    }

    /** What an admin connection is refused once the admin token it authenticated with was rotated. */
    static AgentcoreException adminTokenRotated() {
        return new AgentcoreException(ErrorCode.UNAUTHENTICATED, "the admin token this connection authenticated with "
                + "has been rotated: connect again with the new one");
    }
}
