package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

/**
 * Two agent processes started with one instance identity: the one that starts its chain later
 * takes the row, and the other is told SUPERSEDED at once (even while idle) and stops, instead
 * of fighting for the row in a loop.
 */
class OneReporterPerRowTest {

    private final ControlPlaneFixture fixture = new ControlPlaneFixture();
    private final List<Disposable> agents = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        agents.forEach(Disposable::dispose);
        fixture.close();
    }

    @Test
    void theLaterProcessTakesTheRowAndTheEarlierOneIsSupersededEvenWhileIdle() {
        String identity = fixture.workspaceWithBuild("dev");
        Lifecycle first = Lifecycle.create(Clock.systemUTC());
        List<ReporterEvent> firstEvents = new CopyOnWriteArrayList<>();
        List<Throwable> firstEnded = new CopyOnWriteArrayList<>();
        agents.add(LifecycleReporter.builder(first).build()
                .report(AgentConnector.builder(fixture.tcp(), identity).build().sessions())
                .subscribe(firstEvents::add, firstEnded::add));
        first.transitionTo(LifecycleState.STARTING);
        first.transitionTo(LifecycleState.READY);
        awaitRow(first, LifecycleState.READY);

        // A copy of the VM starts its own agent process with the same identity file.
        Lifecycle second = Lifecycle.create(Clock.systemUTC());
        agents.add(LifecycleReporter.builder(second).build()
                .report(AgentConnector.builder(fixture.tcp(), identity).build().sessions()).subscribe());
        second.transitionTo(LifecycleState.STARTING);
        second.transitionTo(LifecycleState.READY);
        awaitRow(second, LifecycleState.READY);

        // The first one sends nothing, yet hears at once that it lost the row; its reporting ends.
        StepVerifier.create(reactor.core.publisher.Mono.fromSupplier(() -> firstEnded.isEmpty() ? null : firstEnded.get(0))
                        .repeatWhenEmpty(empty -> empty.delayElements(java.time.Duration.ofMillis(20))))
                .assertNext(error -> assertThat(error).isInstanceOfSatisfying(AgentcoreException.class,
                        refusal -> assertThat(refusal.code()).isEqualTo(ErrorCode.SUPERSEDED)))
                .expectComplete().verify(ControlPlaneFixture.TIMEOUT);
        assertThat(firstEvents).filteredOn(ReporterEvent.UpdateRefused.class::isInstance).hasSize(1);
        assertThat(fixture.latest("dev").lastChain()).isEqualTo(second.current().chain());
        assertThat(fixture.latest("dev").state()).isEqualTo(LifecycleState.READY);
    }

    private void awaitRow(Lifecycle lifecycle, LifecycleState state) {
        StepVerifier.create(fixture.lifecycle.watch("dev")
                        .filter(row -> row.state() == state && lifecycle.current().chain().equals(row.lastChain()))
                        .take(1))
                .expectNextCount(1).expectComplete().verify(ControlPlaneFixture.TIMEOUT);
    }
}
