package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** An agent through each of the proxy's faults in turn: it reports through all of them once they lift. */
class FaultProxyTest {

    @Test
    void agentReportsThroughRefusalsCutsAtAChosenOffsetAndDelays() {
        try (ControlPlaneFixture fixture = new ControlPlaneFixture();
             FaultProxy proxy = FaultProxy.start(fixture.tcp().port(), 3);
             AdminClient admin = fixture.admin()) {
            String identity = fixture.workspaceWithBuild("ws");
            // Refused, then cut 40 bytes in (inside the SETUP frame), for every connection.
            proxy.refuseNewConnections(true);
            Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
            Disposable agent = LifecycleReporter.builder(lifecycle).build()
                    .report(AgentConnector.builder(ControlPlaneAddress.tcp("127.0.0.1", proxy.port()), identity)
                            .backoff(Duration.ofMillis(10), Duration.ofMillis(50)).build().sessions())
                    .subscribe();
            lifecycle.transitionTo(LifecycleState.STARTING);
            StepVerifier.create(Flux.interval(Duration.ofMillis(10)).filter(tick -> proxy.refused() >= 3).take(1))
                    .expectNextCount(1).expectComplete().verify(TIMEOUT);
            assertThat(proxy.connections()).as("nothing got through while refusing").isZero();
            proxy.refuseNewConnections(false);
            proxy.cutEachAt(40);
            long before = proxy.cuts();
            StepVerifier.create(Flux.interval(Duration.ofMillis(10)).filter(tick -> proxy.cuts() >= before + 3).take(1))
                    .expectNextCount(1).expectComplete().verify(TIMEOUT);
            assertThat(fixture.latest("ws").state()).isEqualTo(LifecycleState.CREATED);

            // Slow but whole: every chunk held 50 ms.
            proxy.cutEachAt(-1);
            proxy.delay(Duration.ofMillis(50));
            StepVerifier.create(admin.watch("ws").filter(row -> row.state() == LifecycleState.STARTING).take(1))
                    .expectNextCount(1).expectComplete().verify(TIMEOUT);
            lifecycle.transitionTo(LifecycleState.READY);
            StepVerifier.create(admin.watch("ws").filter(row -> row.state() == LifecycleState.READY).take(1))
                    .expectNextCount(1).expectComplete().verify(TIMEOUT);
            agent.dispose();
        }
    }
}
