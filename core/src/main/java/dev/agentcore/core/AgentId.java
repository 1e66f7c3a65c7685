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
        if (value.isBlank()) {
            throw new IllegalArgumentException("value: an agent id must not be blank");
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
