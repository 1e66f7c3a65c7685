package dev.agentcore.core;

import java.util.Objects;

/**
 * A refusal with a stable {@link ErrorCode} and a message a person can act on. Refusals are
 * answers, not faults, and some come on hot paths (a refused update, a rate limit): they carry no
 * stack trace, which would cost more than the refusal itself.
 */
public class AgentcoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public AgentcoreException(ErrorCode code, String message) {
        super(Objects.requireNonNull(message, "message"), null, true, false);
        this.code = Objects.requireNonNull(code, "code");
    }

    public ErrorCode code() {
        return code;
    }

    @Override
    public String toString() {
        return code + ": " + getMessage();
    }
}
