package dev.agentcore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.handler.ssl.SslClosedEngineException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.Exceptions;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/** The command line's hook for errors Reactor drops: a closing connection's races quietly, the rest as warnings. */
class DroppedErrorsTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger(DroppedErrors.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private Level levelBefore;

    @BeforeEach
    void capture() {
        levelBefore = logger.getLevel();
        logger.setLevel(Level.DEBUG);
        logged.start();
        logger.addAppender(logged);
        DroppedErrors.logQuietly();
    }

    @AfterEach
    void release() {
        Hooks.resetOnErrorDropped();
        logger.detachAppender(logged);
        logger.setLevel(levelBefore);
    }

    @Test
    void aWriteThatRacedItsConnectionsCloseIsLoggedAtDebugWithoutAStackTrace() {
        Operators.onErrorDropped(new SslClosedEngineException("SSLEngine closed already"), Context.empty());
        // As rsocket-java's TLS connection drops it: its write, subscribed without an error callback, failed at the close.
        Operators.onErrorDropped(Exceptions.errorCallbackNotImplemented(
                new SslClosedEngineException("SSLEngine closed already")), Context.empty());
        Operators.onErrorDropped(new ClosedChannelException(), Context.empty());
        Operators.onErrorDropped(new CancellationException("Disposed"), Context.empty());

        assertThat(logged.list).hasSize(4).allSatisfy(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.DEBUG);
            assertThat(event.getThrowableProxy()).isNull();
        });
        assertThat(logged.list.get(0).getFormattedMessage()).contains("SSLEngine closed");
    }

    @Test
    void anyOtherDroppedErrorIsAWarningWithItsStackTrace() {
        Operators.onErrorDropped(new IllegalStateException("a late failure"), Context.empty());

        assertThat(logged.list).singleElement().satisfies(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.WARN);
            assertThat(event.getThrowableProxy().getMessage()).isEqualTo("a late failure");
        });
    }
}
