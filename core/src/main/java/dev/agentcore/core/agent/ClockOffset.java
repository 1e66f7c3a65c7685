package dev.agentcore.core.agent;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * How far the agent's clock is behind the control plane's, measured over one round trip: the
 * reporter adds {@link #correction()} to the times it sends, so that a skewed agent clock still
 * gives a row the control plane's times, never later than the truth and earlier by at most the
 * round trip.
 *
 * @param offset the control plane's time minus the agent's, at the middle of the round trip
 * @param errorBound half the round trip: the true offset is within this of {@code offset}
 */
public record ClockOffset(Duration offset, Duration errorBound) {

    /** Nothing measured: no correction. */
    public static final ClockOffset UNKNOWN = new ClockOffset(Duration.ZERO, Duration.ZERO);

    public ClockOffset {
        Objects.requireNonNull(offset, "offset");
        Objects.requireNonNull(errorBound, "errorBound");
        if (errorBound.isNegative()) {
            throw new IllegalArgumentException("errorBound: must not be negative, was " + errorBound);
        }
    }

    /**
     * The offset from one round trip: the agent read {@code sentAt} on its clock just before the
     * request, the control plane answered with {@code serverTime}, the agent read
     * {@code receivedAt} just after the answer.
     */
    public static ClockOffset measured(Instant sentAt, Instant serverTime, Instant receivedAt) {
        Duration roundTrip = Duration.between(sentAt, receivedAt);
        if (roundTrip.isNegative()) {
            // The agent's clock stepped back during the round trip: this reading says nothing.
            return UNKNOWN;
        }
        Instant middle = sentAt.plus(roundTrip.dividedBy(2));
        return new ClockOffset(Duration.between(middle, serverTime), roundTrip.dividedBy(2));
    }

    /**
     * What to add to the agent's times: the smallest offset the round trip allows (offset minus
     * error bound) when the offset is larger than its error bound, else nothing.
     */
    public Duration correction() {
        // The lower edge, not the middle: a lopsided round trip can make the middle too large, and a
        // corrected time later than the control plane's now is clamped to now, which shortens the
        // startup it ends. The lower edge is never later than the truth, so every time of one
        // session moves by the same amount and durations stay as the agent measured them.
        return offset.abs().compareTo(errorBound) > 0 ? offset.minus(errorBound) : Duration.ZERO;
    }
}
