package dev.agentcore.core;

import java.util.List;
import java.util.Objects;

/**
 * What the control plane tells an agent when it connects: the row it is bound to and what to run.
 *
 * @param agentId the row this session reports to
 * @param workspaceId the workspace the row belongs to
 * @param agentName a name for people
 * @param startupScripts run, in order, when the agent starts
 * @param shutdownScripts run, in order, when the agent shuts down
 */
public record Manifest(AgentId agentId, String workspaceId, String agentName,
                       List<Script> startupScripts, List<Script> shutdownScripts) {

    public Manifest {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(workspaceId, "workspaceId");
        Objects.requireNonNull(agentName, "agentName");
        startupScripts = List.copyOf(startupScripts);
        shutdownScripts = List.copyOf(shutdownScripts);
    }

    /** A manifest with no scripts. */
    public static Manifest of(AgentId agentId, String workspaceId, String agentName) {
        return new Manifest(agentId, workspaceId, agentName, List.of(), List.of());
    }
}
