package dev.agentcore.cli;

/** The documented exit codes of the {@code agentcore} command. */
final class ExitCodes {

    /** Success; for {@code wait}: the row is READY (STARTING for a workspace whose startup does not block logins). */
    static final int OK = 0;
    /** An error: the control plane unreachable or refusing, a missing file, and the like. */
    static final int ERROR = 1;
    /** Bad usage: unknown option, missing argument (picocli's default). */
    static final int USAGE = 2;
    /** {@code wait}: startup failed (START_ERROR). */
    static final int START_ERROR = 3;
    /** {@code wait}: startup timed out (START_TIMEOUT). */
    static final int START_TIMEOUT = 4;
    /** {@code wait}: the agent is shutting down or off, or the build was stopped. */
    static final int SHUTTING_DOWN = 5;
    /** {@code wait}: its own --timeout passed first. */
    static final int WAIT_TIMEOUT = 6;
    /** {@code demo}: agentcore's row did not reach READY. */
    static final int DEMO_FAILED = 7;
    /** {@code agent}: the control plane refused the instance identity, again and again. */
    static final int IDENTITY_REFUSED = 8;
    /** {@code agent}: another agent process started reporting for the same workspace and took its row. */
    static final int SUPERSEDED = 9;

    private ExitCodes() {
    }
}
