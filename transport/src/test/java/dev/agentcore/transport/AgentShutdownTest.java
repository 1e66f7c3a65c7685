package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.test.StepVerifier;

/**
 * Stopping an agent (cancelling its reporting) while the control plane leaves its last update
 * unanswered, as at a shutdown with the control plane gone: its connection closes, and nothing
 * is left for Reactor to log as an error nobody received. Before the manifests stream was left
 * to end with its connection, about one stop in ten logged rsocket-java's ClosedChannelException
 * as dropped (the stream cancelled while its connection closed); repeated to catch a race.
 */
class AgentShutdownTest {

    private final List<Throwable> dropped = new CopyOnWriteArrayList<>();

    @AfterEach
    void resetHook() {
        Hooks.resetOnErrorDropped();
    }

    private static void awaitEvent(List<ReporterEvent> events, Class<? extends ReporterEvent> kind) {
        awaitEvent(events, kind, 1);
    }

    private static void awaitEvent(List<ReporterEvent> events, Class<? extends ReporterEvent> kind, int count) {
        StepVerifier.create(Flux.interval(Duration.ofMillis(5))
                        .filter(tick -> events.stream().filter(kind::isInstance).count() >= count)
                        .take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
    }

    @RepeatedTest(20)
    void stoppingAnAgentWhoseUpdateIsUnansweredClosesItsConnectionAndDropsNoError() {
        Hooks.onErrorDropped(dropped::add);
        try (ControlPlaneFixture fixture = new ControlPlaneFixture();
             FaultProxy proxy = FaultProxy.start(fixture.tcp().port(), 1);
             AdminClient admin = fixture.admin()) {
            String identity = fixture.workspaceWithBuild("ws");
            Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
            List<ReporterEvent> events = new CopyOnWriteArrayList<>();
            Disposable agent = LifecycleReporter.builder(lifecycle).build()
                    .report(AgentConnector.builder(ControlPlaneAddress.tcp("127.0.0.1", proxy.port()), identity)
                            .build().sessions())
                    .subscribe(events::add);
            lifecycle.transitionTo(LifecycleState.STARTING);
            awaitEvent(events, ReporterEvent.UpdateAcknowledged.class);

            // The answers stop coming; the agent sends READY and is stopped with it unacknowledged.
            proxy.drop(FaultProxy.Direction.TO_CLIENT);
            lifecycle.transitionTo(LifecycleState.READY);
            awaitEvent(events, ReporterEvent.UpdateSent.class, 2);
            agent.dispose();

            StepVerifier.create(Flux.interval(Duration.ofMillis(10))
                            .filter(tick -> fixture.openConnections() == 1) // the admin client's
                            .take(1))
                    .expectNextCount(1).expectComplete().verify(TIMEOUT);
            assertThat(dropped).as("errors dropped while the agent stopped").isEmpty();
        }
    }
}
