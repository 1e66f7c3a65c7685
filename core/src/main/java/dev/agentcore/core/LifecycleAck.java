package dev.agentcore.core;

import java.util.Objects;

/**
 * The control plane's acknowledgement of one {@link LifecycleUpdate}: it is durably applied, or
 * was already.
 *
 * @param chain the chain of the acknowledged update
 * @param seq the seq of the acknowledged update
 * @param outcome whether this update changed the row or was a duplicate of one that had
 * @param rowState the row's state after the update
 */
public record LifecycleAck(ChainId chain, long seq, Outcome outcome, LifecycleState rowState) {

    /** What the control plane did with an update. */
    public enum Outcome {
        /** The update was written to the row. */
        APPLIED,
        /** The row already had this update; nothing was written. */
        DUPLICATE
    }

    public LifecycleAck {
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(rowState, "rowState");
    }
}
