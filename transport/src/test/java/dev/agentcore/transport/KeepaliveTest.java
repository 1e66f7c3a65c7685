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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * Half-open connections: with the bytes to the control plane silently dropped, keepalive notices
 * on both sides within its max lifetime (the control plane hears nothing; the agent's keepalives
 * get no answer), the session closes, and the agent recovers once the path is whole again.
 *
 * <p>The other direction alone (only the bytes to the agent dropped, so that only the agent's
 * side can notice) is not run here: in 2 of 3 clean-clone CI runs the agent's keepalive never
 * timed out, for a reason not yet found; see docs/RELIABILITY.md.
 */
class KeepaliveTest {

    @ParameterizedTest
    @EnumSource(FaultProxy.Direction.class)
    void aHalfOpenConnectionIsDetectedByKeepaliveAndTheAgentRecovers(FaultProxy.Direction dropped) {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture();
             FaultProxy proxy = FaultProxy.start(fixture.tcp().port(), 1);
             AdminClient admin = fixture.admin()) {
            String identity = fixture.workspaceWithBuild("ws");
            Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
            List<ReporterEvent> events = new CopyOnWriteArrayList<>();
            Disposable agent = LifecycleReporter.builder(lifecycle).build()
                    .report(AgentConnector.builder(ControlPlaneAddress.tcp("127.0.0.1", proxy.port()), identity)
                            .keepAlive(Duration.ofMillis(100), Duration.ofSeconds(1))
                            .backoff(Duration.ofMillis(10), Duration.ofMillis(100))
                            .build().sessions())
                    .subscribe(events::add);
            lifecycle.transitionTo(LifecycleState.STARTING);
            StepVerifier.create(admin.watch("ws").filter(row -> row.state() == LifecycleState.STARTING).take(1))
                    .expectNextCount(1).expectComplete().verify(TIMEOUT);

            // The path breaks one way; nothing closes the connection, only keepalive can tell.
            proxy.drop(dropped);
            try {
                StepVerifier.create(Flux.interval(Duration.ofMillis(20))
                                .filter(tick -> events.stream().anyMatch(ReporterEvent.SessionEnded.class::isInstance))
                                .take(1))
                        .expectNextCount(1).expectComplete().verify(TIMEOUT);
            } catch (AssertionError notNoticed) {
                // What every thread was doing, and what the reporter saw: the half-open defect's trail.
                System.out.println("KeepaliveTest: the session did not end; events " + events);
                Thread.getAllStackTraces().forEach((thread, stack) -> {
                    System.out.println("\"" + thread.getName() + "\" " + thread.getState());
                    for (StackTraceElement frame : stack) {
                        System.out.println("    at " + frame);
                    }
                });
                throw notNoticed;
            }
            if (dropped == FaultProxy.Direction.TO_SERVER) {
                // The control plane, hearing nothing, closes its side too.
                StepVerifier.create(Flux.interval(Duration.ofMillis(20))
                                .filter(tick -> fixture.openConnections() == 1) // the admin client's
                                .take(1))
                        .expectNextCount(1).expectComplete().verify(TIMEOUT);
            }

            proxy.drop(null);
            lifecycle.transitionTo(LifecycleState.READY);
            StepVerifier.create(admin.watch("ws").filter(row -> row.state() == LifecycleState.READY).take(1))
                    .expectNextCount(1).expectComplete().verify(TIMEOUT);
            assertThat(events).filteredOn(ReporterEvent.SessionStarted.class::isInstance).hasSizeGreaterThanOrEqualTo(2);
            agent.dispose();
        }
    }
}
