package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.read.ListAppender;
import ch.qos.logback.core.spi.FilterReply;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.Workspace;
import io.rsocket.Payload;
import io.rsocket.util.DefaultPayload;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * The control plane reads every payload from the frame's own buffer, reference-counted, and
 * releases each once read: no route leaks one. Netty's leak detection runs at paranoid in this
 * module and reports a leaked buffer as an ERROR once the buffer is collected.
 */
class PayloadReleaseTest {

    private static final String ECHO = "test.v1.echo";

    private final ListAppender<ILoggingEvent> errors = new ListAppender<>();

    @BeforeEach
    void listen() {
        errors.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
        errors.addFilter(new Filter<>() {
            @Override
            public FilterReply decide(ILoggingEvent event) {
                return event.getLevel().isGreaterOrEqual(Level.ERROR) ? FilterReply.NEUTRAL : FilterReply.DENY;
            }
        });
        errors.start();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(errors);
    }

    @AfterEach
    void stopListening() {
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(errors);
    }

    @Test
    void everyRouteReleasesWhatItReadsAcrossAWholeBuildBoundary() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture(builder -> builder.adminChannelRoute(ECHO,
                payloads -> payloads.skip(1)));
             AdminClient admin = fixture.admin()) {
            // Admin request-responses and request-streams.
            String identity = admin.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
            admin.startBuild("ws").block(TIMEOUT);
            AgentRow first = admin.rows("ws", 1).blockFirst(TIMEOUT);

            // An agent on protocol v2 (exchange, manifests stream, a bound channel, its updates), then a build
            // boundary (the fence, the next manifest, the next channel, the replay).
            Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
            Disposable agent = LifecycleReporter.builder(lifecycle).build()
                    .report(AgentConnector.builder(fixture.tcp(), identity).build().sessions()).subscribe();
            try {
                lifecycle.transitionTo(LifecycleState.STARTING);
                lifecycle.transitionTo(LifecycleState.READY);
                awaitReady(admin, first.buildNumber());
                admin.startBuild("ws").block(TIMEOUT);
                awaitReady(admin, first.buildNumber() + 1);
            } finally {
                agent.dispose();
            }

            // A channel route the embedding program added: its payloads go back as they came.
            StepVerifier.create(admin.channel(ECHO, Flux.just(DefaultPayload.create(new byte[40]),
                            DefaultPayload.create(new byte[3]))).map(PayloadReleaseTest::sizeReleasing))
                    .expectNext(40, 3)
                    .verifyComplete();

            // Collected, a leaked buffer is reported at the next allocation the detector tracks.
            for (int round = 0; round < 3; round++) {
                System.gc();
                admin.rows("ws", 2).collectList().block(TIMEOUT);
            }
        }
        assertThat(errors.list).extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    }

    private static void awaitReady(AdminClient admin, long build) {
        StepVerifier.create(admin.watch("ws")
                        .filter(row -> row.buildNumber() == build && row.state() == LifecycleState.READY).take(1))
                .expectNextCount(1)
                .expectComplete()
                .verify(TIMEOUT);
    }

    private static int sizeReleasing(Payload payload) {
        try {
            return payload.data().readableBytes();
        } finally {
            payload.release();
        }
    }
}
