package dev.agentcore.test;

import static dev.agentcore.core.LifecycleState.READY;
import static dev.agentcore.core.LifecycleState.STARTING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.testing.MutableClock;
import dev.agentcore.core.testing.ReadmeSnippets;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** The README's core snippet, compiled and run; the README's block must be exactly these lines. */
class ReadmeExampleTest {

    private final TestControlPlane fixture = TestControlPlane.create(MutableClock.at("2026-01-01T10:00:00Z"));

    /** Stands in for the transport's connector: any Flux of sessions will do. */
    private final TestConnector connector = fixture.connector();

    @Test
    void coreSnippetReportsABuildBoundary() {
        Flux<AgentSession> sessions = connector.sessions();
        // README-BEGIN core
        Clock clock = Clock.systemUTC();
        LifecycleService controlPlane = LifecycleService.builder(new InMemoryAgentStore()).clock(clock).build();
        StepVerifier.create(controlPlane.startBuild("my-workspace"))
                .assertNext(row -> assertThat(row.state()).isEqualTo(LifecycleState.CREATED))
                .verifyComplete();

        Lifecycle lifecycle = Lifecycle.create(clock);                 // the single writer of the chain
        LifecycleReporter reporter = LifecycleReporter.builder(lifecycle)
                .clock(clock)
                .build();                                              // REPLAY on agent change, by default
        reporter.report(sessions)                                      // a Flux<AgentSession>, one per row bound
                .subscribe(event -> System.out.println(event));
        lifecycle.transitionTo(LifecycleState.STARTING);
        lifecycle.transitionTo(LifecycleState.READY);
        // README-END core

        // The snippet's control plane stands alone; report against the fixture's to see the outcome.
        AgentRow rowA = fixture.startBuild("ws");
        connector.connect(rowA);
        AgentRow rowB = fixture.startBuild("ws");
        connector.connect(rowB);
        assertThat(fixture.row(rowB.agentId()).state()).isEqualTo(READY);
        assertThat(fixture.appliedTo(rowB.agentId())).extracting(LifecycleUpdate::state).containsExactly(STARTING, READY);
    }

    @Test
    void readmeShowsTheSnippetAsCompiled() {
        ReadmeSnippets.assertReadmeShows(Path.of("src/test/java/dev/agentcore/test/ReadmeExampleTest.java"), "core");
    }

    @Test
    void everyJavaBlockInTheReadmeIsASnippetThatATestCompiles() {
        ReadmeSnippets.assertEveryJavaBlockIsASnippet(Path.of(".."));
    }
}
