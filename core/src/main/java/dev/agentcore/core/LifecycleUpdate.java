package dev.agentcore.core;

import java.time.Instant;
import java.util.Objects;

/**
 * One lifecycle step as sent to the control plane for the row a session is bound to.
 *
 * @param chain the chain the step belongs to
 * @param seq its position in the chain, 1 or more (CREATED, seq 0, belongs to the control plane)
 * @param state the state entered
 * @param changedAt the time to record; null lets the control plane use its own clock
 * @param replay whether this step is replayed onto a row other than the one it first reached
 * @param originalChangedAt for a replay, when the step really happened; otherwise null
 */
public record LifecycleUpdate(ChainId chain, long seq, LifecycleState state, Instant changedAt,
                              boolean replay, Instant originalChangedAt) {

    public LifecycleUpdate {
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(state, "state");
    }

    /** A step reported with the given timestamp, not a replay. */
    public static LifecycleUpdate live(LifecycleTransition transition, Instant changedAt) {
        return new LifecycleUpdate(transition.chain(), transition.seq(), transition.state(), changedAt, false, null);
    }

    /** A step replayed onto a new row with a refreshed timestamp, keeping the original one beside it. */
    public static LifecycleUpdate replay(LifecycleTransition transition, Instant changedAt) {
        return new LifecycleUpdate(transition.chain(), transition.seq(), transition.state(), changedAt, true,
                transition.changedAt());
    }
}
