package dev.agentcore.core.agent;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.Manifest;
import java.util.Objects;

/**
 * Asks the runtime to re-run its startup against a new manifest, under
 * {@link AgentChangePolicy#REINITIALIZE}: call {@link Lifecycle#reinitialize()} and walk the new
 * generation through its states.
 *
 * @param previousAgentId the row the agent reported to before
 * @param manifest the new session's manifest, naming the new row
 */
public record ReinitializationRequest(AgentId previousAgentId, Manifest manifest) {

    public ReinitializationRequest {
        Objects.requireNonNull(previousAgentId, "previousAgentId");
        Objects.requireNonNull(manifest, "manifest");
    }
}
