package dev.agentcore.core;

import dev.agentcore.core.internal.Randomness;
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

    /** The longest incarnation accepted: stores keep it in a bounded column. */
    public static final int MAX_INCARNATION_LENGTH = 128;


    public ChainId {
        Objects.requireNonNull(incarnation, "incarnation");
        if (incarnation.isBlank() || incarnation.length() > MAX_INCARNATION_LENGTH) {
            throw new IllegalArgumentException("incarnation: 1 to " + MAX_INCARNATION_LENGTH
                    + " characters, not blank, was " + incarnation.length() + " characters");
        }
        if (generation < 0) {
            throw new IllegalArgumentException("generation: must not be negative, was " + generation);
        }
    }

    /** A fresh 128-bit random incarnation, at generation 0. */
    public static ChainId newIncarnation() {
        return new ChainId(HexFormat.of().formatHex(Randomness.bytes(16)), 0);
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
