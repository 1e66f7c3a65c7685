package dev.agentcore.core;

import java.time.Instant;
import java.util.Objects;

/**
 * One step of a lifecycle chain, as the agent recorded it.
 *
 * @param chain the chain this step belongs to
 * @param seq 0 for CREATED, then 1, 2, ... in the order the steps happened
 * @param state the state entered
 * @param changedAt when the agent entered it, by the agent's clock
 */
public record LifecycleTransition(ChainId chain, long seq, LifecycleState state, Instant changedAt) {

    public LifecycleTransition {
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(changedAt, "changedAt");
        if (seq < 0) {
            throw new IllegalArgumentException("seq: must not be negative, was " + seq);
        }
        if ((seq == 0) != (state == LifecycleState.CREATED)) {
            throw new IllegalArgumentException("seq 0 is CREATED and CREATED is seq 0, was seq " + seq + " " + state);
        }
    }
}
