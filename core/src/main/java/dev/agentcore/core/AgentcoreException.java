package dev.agentcore.core;

import java.util.Objects;

/** A refusal with a stable {@link ErrorCode} and a message a person can act on. */
public class AgentcoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public AgentcoreException(ErrorCode code, String message) {
        super(Objects.requireNonNull(message, "message"));
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
