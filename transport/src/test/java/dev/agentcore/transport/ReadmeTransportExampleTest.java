package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.InMemoryWorkspaceStore;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.core.testing.ReadmeSnippets;
import dev.agentcore.transport.ControlPlaneServer.RunningControlPlane;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

/** The README's "control plane + agent over RSocket" snippet, compiled and run. */
class ReadmeTransportExampleTest {

    @Test
    void controlPlaneAndAgentOverRSocket() {
        String adminToken = AccessService.newSecret();
        // README-BEGIN transport
        InMemoryAgentStore rows = new InMemoryAgentStore();
        LifecycleService lifecycleService = LifecycleService.builder(rows).build();
        AccessService access = new AccessService(rows, new InMemoryWorkspaceStore());
        RunningControlPlane controlPlane = ControlPlaneServer.builder(lifecycleService, access)
                .tcp("127.0.0.1", 0)                      // port 0: any free port
                .websocket("127.0.0.1", 0)
                .adminToken(adminToken)
                .build()
                .start()
                .block();
        ControlPlaneAddress address = ControlPlaneAddress.tcp(controlPlane.tcpAddress());

        AdminClient admin = AdminClient.connect(address, adminToken).block();
        String identity = admin.createWorkspace(Workspace.named("my-workspace")).block();
        admin.startBuild("my-workspace").block();       // row 1, at CREATED

        Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
        AgentConnector connector = AgentConnector.builder(address, identity).build();
        Disposable agent = LifecycleReporter.builder(lifecycle).build()
                .report(connector.sessions())
                .subscribe();
        lifecycle.transitionTo(LifecycleState.STARTING);
        lifecycle.transitionTo(LifecycleState.READY);
        admin.watch("my-workspace")                      // what `wait` does: until row 1 is READY
                .filter(row -> row.state() == LifecycleState.READY)
                .blockFirst();

        admin.startBuild("my-workspace").block();       // row 2: the agent is fenced off row 1,
                                                        // and replays onto row 2 on the same connection
        // README-END transport

        StepVerifier.create(admin.watch("my-workspace")
                        .filter(row -> row.buildNumber() == 2 && row.state() == LifecycleState.READY).take(1))
                .assertNext(row -> assertThat(row.startedAt()).isBefore(row.readyAt()))
                .expectComplete()
                .verify(Duration.ofSeconds(20));
        agent.dispose();
        admin.dispose();
        controlPlane.disposeNow(Duration.ofSeconds(10));
    }

    @Test
    void readmeShowsTheSnippetAsCompiled() {
        ReadmeSnippets.assertReadmeShows(
                Path.of("src/test/java/dev/agentcore/transport/ReadmeTransportExampleTest.java"), "transport");
    }
}
