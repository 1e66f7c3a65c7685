package dev.agentcore.core.control;

import java.time.Instant;
import java.util.Objects;

/**
 * One lifecycle update as the control plane applied it: the row after it (its state is the
 * update's), the time it was applied at (the agent's, clamped), and whether the agent re-sent it
 * onto a new row (a replay).
 */
public record AppliedUpdate(AgentRow row, Instant changedAt, boolean replay) {

    public AppliedUpdate {
        Objects.requireNonNull(row, "row");
        Objects.requireNonNull(changedAt, "changedAt");
    }
}
