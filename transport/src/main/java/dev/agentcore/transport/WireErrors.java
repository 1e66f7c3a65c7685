package dev.agentcore.transport;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import io.rsocket.RSocketErrorException;
import io.rsocket.exceptions.CustomRSocketException;
import io.rsocket.exceptions.RejectedSetupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Errors on the wire: an {@link AgentcoreException} travels as an RSocket error whose custom
 * code is {@code 0x301 + n} (n the protobuf ErrorCode number) and whose message starts with the
 * code's name, so any RSocket client can read it; the other side maps it back.
 */
final class WireErrors {

    private static final Logger log = LoggerFactory.getLogger(WireErrors.class);
    static final int FIRST_CUSTOM_CODE = 0x301;

    private WireErrors() {
    }

    static int wireCode(ErrorCode code) {
        return FIRST_CUSTOM_CODE + number(code);
    }

    /** The code's number: the schema's own ErrorCode (agent.proto), mapped by an explicit table, never by order. */
    private static int number(ErrorCode code) {
        return wire(code).getNumber();
    }

    static dev.agentcore.transport.proto.v1.ErrorCode wire(ErrorCode code) {
        return switch (code) {
            case UNAUTHENTICATED -> dev.agentcore.transport.proto.v1.ErrorCode.UNAUTHENTICATED;
            case FENCED -> dev.agentcore.transport.proto.v1.ErrorCode.FENCED;
            case INVALID_ARGUMENT -> dev.agentcore.transport.proto.v1.ErrorCode.INVALID_ARGUMENT;
            case INVALID_TRANSITION -> dev.agentcore.transport.proto.v1.ErrorCode.INVALID_TRANSITION;
            case RESOURCE_EXHAUSTED -> dev.agentcore.transport.proto.v1.ErrorCode.RESOURCE_EXHAUSTED;
            case INTERNAL -> dev.agentcore.transport.proto.v1.ErrorCode.INTERNAL;
            case SUPERSEDED -> dev.agentcore.transport.proto.v1.ErrorCode.SUPERSEDED;
        };
    }

    /** The code with that number in agent.proto's ErrorCode; null for one this version does not know. */
    private static ErrorCode codeNumbered(int number) {
        for (ErrorCode code : ErrorCode.values()) {
            if (number(code) == number) {
                return code;
            }
        }
        return null;
    }

    /** An error for the peer: our refusals keep their code; anything else is INTERNAL, details logged here. */
    static RSocketErrorException toWire(Throwable error) {
        if (error instanceof RSocketErrorException already) {
            return already;
        }
        AgentcoreException refusal = asRefusal(error);
        return new WireRefusal(wireCode(refusal.code()), refusal.code() + ": " + refusal.getMessage());
    }

    /**
     * A refusal on its way to the peer: stackless, because a build boundary sends one FENCED per
     * channel and the stack would say nothing the code and message do not (the cause, if any, is
     * logged by {@link #asRefusal}).
     */
    private static final class WireRefusal extends CustomRSocketException {
        private static final long serialVersionUID = 1L;

        WireRefusal(int errorCode, String message) {
            super(errorCode, message);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /** A refusal for SETUP: REJECTED_SETUP with the code in the message. */
    static RejectedSetupException rejectedSetup(Throwable error) {
        AgentcoreException refusal = asRefusal(error);
        return new RejectedSetupException(refusal.code() + ": " + refusal.getMessage());
    }

    private static AgentcoreException asRefusal(Throwable error) {
        if (error instanceof AgentcoreException refusal) {
            return refusal;
        }
        log.error("internal error answered as INTERNAL", error);
        return new AgentcoreException(ErrorCode.INTERNAL, "internal error in the control plane; see its log");
    }

    /** The peer's error as an {@link AgentcoreException} when it carries one of our codes; otherwise unchanged. */
    static Throwable fromWire(Throwable error) {
        if (error instanceof CustomRSocketException custom) {
            ErrorCode code = codeNumbered(custom.errorCode() - FIRST_CUSTOM_CODE);
            if (code != null) {
                return new AgentcoreException(code, stripCode(custom.getMessage()));
            }
        }
        if (error instanceof RSocketErrorException rsocketError && error.getMessage() != null) {
            for (ErrorCode code : ErrorCode.values()) {
                if (error.getMessage().startsWith(code.name() + ": ")) {
                    return new AgentcoreException(code, stripCode(error.getMessage()));
                }
            }
        }
        return error;
    }

    private static String stripCode(String message) {
        int colon = message == null ? -1 : message.indexOf(": ");
        return colon < 0 ? String.valueOf(message) : message.substring(colon + 2);
    }

    /** Whether the error means the credential is no good any more: exchange the identity again. */
    static boolean rejectsCredential(Throwable error) {
        return error instanceof AgentcoreException refusal
                && (refusal.code() == ErrorCode.FENCED || refusal.code() == ErrorCode.UNAUTHENTICATED);
    }
}
