package dev.agentcore.core;

import dev.agentcore.core.internal.Randomness;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.UUID;

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

    /** A new random id (a version-4 UUID), drawn without blocking. */
    public static AgentId random() {
        byte[] bytes = Randomness.bytes(16);
        bytes[6] = (byte) ((bytes[6] & 0x0f) | 0x40); // version 4
        bytes[8] = (byte) ((bytes[8] & 0x3f) | 0x80); // IETF variant
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        return new AgentId(new UUID(buffer.getLong(), buffer.getLong()).toString());
    }

    @Override
    public String toString() {
        return value;
    }
}
