package dev.agentcore.core;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Identifies one lifecycle chain: an agent process (its random incarnation) and how many times
 * it was reinitialized (its generation).
 *
 * <p>A restarted process draws a new incarnation, so the control plane can tell its chain from
 * the previous process's, whose sequence numbers it would otherwise mistake for duplicates.
 *
 * @param incarnation a random id drawn when the agent process starts, never blank
 * @param generation how many times this process reinitialized, from 0
 */
public record ChainId(String incarnation, long generation) {

    private static final SecureRandom RANDOM = new SecureRandom();

    public ChainId {
        Objects.requireNonNull(incarnation, "incarnation");
        if (incarnation.isBlank()) {
            throw new IllegalArgumentException("incarnation: must not be blank");
        }
        if (generation < 0) {
            throw new IllegalArgumentException("generation: must not be negative, was " + generation);
        }
    }

    /** A fresh 128-bit random incarnation, at generation 0. */
    public static ChainId newIncarnation() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return new ChainId(HexFormat.of().formatHex(bytes), 0);
    }

    /** The chain that follows this one in the same process. */
    public ChainId nextGeneration() {
        return new ChainId(incarnation, generation + 1);
    }

    /** Whether both chains belong to the same agent process. */
    public boolean sameIncarnation(ChainId other) {
        return incarnation.equals(other.incarnation);
    }

    @Override
    public String toString() {
        return incarnation + "/" + generation;
    }
}
