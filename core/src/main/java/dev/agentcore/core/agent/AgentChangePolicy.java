package dev.agentcore.core.agent;

/** What the reporter does when a new session is bound to a different agent row than the last one. */
public enum AgentChangePolicy {
    /** Re-send the whole current chain to the new row, marked replay, with refreshed timestamps. */
    REPLAY,
    /** Ask the runtime to reinitialize; the new generation is then reported to the new row. */
    REINITIALIZE,
    /**
     * Decide per row from the manifests: {@link #REPLAY} when the new row's manifest asks for what
     * the previous one did (equal {@link dev.agentcore.core.Manifest#contentDigest() content
     * digests}), {@link #REINITIALIZE} when it changed, so that what the new build asks for runs.
     */
    AUTO
}
