package dev.agentcore.core;

/**
 * The nine lifecycle states of an agent, in order.
 *
 * <p>States are grouped in stages: CREATED, STARTING, a start outcome (READY, START_TIMEOUT,
 * START_ERROR), SHUTTING_DOWN, a shutdown outcome (OFF, SHUTDOWN_TIMEOUT, SHUTDOWN_ERROR). A
 * transition must move to a later stage, so the outcomes of one stage exclude each other:
 * READY never becomes START_TIMEOUT, and nothing ever goes back.
 */
public enum LifecycleState {
    CREATED(0),
    STARTING(1),
    READY(2),
    START_TIMEOUT(2),
    START_ERROR(2),
    SHUTTING_DOWN(3),
    OFF(4),
    SHUTDOWN_TIMEOUT(4),
    SHUTDOWN_ERROR(4);

    private final int stage;

    LifecycleState(int stage) {
        this.stage = stage;
    }

    /** Whether a chain at this state may move to {@code next}: only to a later stage. */
    public boolean canAdvanceTo(LifecycleState next) {
        return next.stage > stage;
    }

    /** Whether this is the outcome of shutdown (OFF, SHUTDOWN_TIMEOUT, SHUTDOWN_ERROR): nothing follows it. */
    public boolean isFinal() {
        return stage == 4;
    }

    /** Whether this is the outcome of startup: READY, START_TIMEOUT or START_ERROR. */
    public boolean isStartOutcome() {
        return stage == 2;
    }
}
