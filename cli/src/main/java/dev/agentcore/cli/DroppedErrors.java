package dev.agentcore.cli;

import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CancellationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Exceptions;
import reactor.core.publisher.Hooks;

/**
 * What the command line does with an error that reaches a stream after it ended (Reactor drops
 * it): the races of a closing connection are logged at DEBUG, anything else at WARN with its
 * stack trace. Reactor's own default logs each at ERROR with a stack trace.
 */
final class DroppedErrors {

    private static final Logger log = LoggerFactory.getLogger(DroppedErrors.class);

    private DroppedErrors() {
    }

    /**
     * Sets Reactor's global hook. Only a program that owns its process may (a library must not):
     * {@link AgentcoreCommand#main} calls it, for every command.
     */
    static void logQuietly() {
        Hooks.onErrorDropped(DroppedErrors::log);
    }

    static void log(Throwable error) {
        if (isCloseRace(error)) {
            log.debug("dropped as its connection closed: {}", error.toString());
        } else {
            log.warn("an error arrived after its stream had ended", error);
        }
    }

    /**
     * A cancelled stream's late signal, or a write that raced its connection's close (a TLS
     * connection's engine closed under rsocket-java's last frames, a channel already closed).
     */
    static boolean isCloseRace(Throwable error) {
        // rsocket-java subscribes to a connection's writes without an error callback: Reactor wraps what they end with.
        if (Exceptions.isErrorCallbackNotImplemented(error) && error.getCause() != null) {
            error = error.getCause();
        }
        return error instanceof CancellationException
                || error instanceof ClosedChannelException
                || error instanceof io.netty.handler.ssl.SslClosedEngineException;
    }
}
