package dev.agentcore.core;

import java.util.Objects;

/**
 * Identifies one agent row on the control plane: every build of a workspace creates a new one.
 *
 * @param value the row's id, never blank
 */
public record AgentId(String value) {

    public AgentId {
        Objects.requireNonNull(value, "value");
        if (value.isBlank() || value.length() > 64) {
            throw new IllegalArgumentException("value: an agent id has 1 to 64 characters, not blank");
        }
    }

    public static AgentId of(String value) {
        return new AgentId(value);
    }

    @Override
    public String toString() {
        return value;
    }
}
