package dev.agentcore.cli;

/** A failure to report to the person in one line, with an exit code. */
final class CommandFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;
    final int exitCode;

    CommandFailure(String message) {
        this(message, ExitCodes.ERROR);
    }

    CommandFailure(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }
}
