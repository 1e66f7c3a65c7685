package dev.agentcore.core.agent;

/** What the reporter does when a new session is bound to a different agent row than the last one. */
public enum AgentChangePolicy {
    /** Re-send the whole current chain to the new row, marked replay, with refreshed timestamps. */
    REPLAY,
    /** Ask the runtime to reinitialize; the new generation is then reported to the new row. */
    REINITIALIZE
}
