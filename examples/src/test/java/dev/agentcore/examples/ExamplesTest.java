package dev.agentcore.examples;

import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.AdminClient;
import dev.agentcore.transport.ControlPlaneAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/**
 * Runs the examples together, over real sockets and a real H2 file: a control plane embedded on
 * H2, an agent runtime that reports, and an admin client that watches, across a build boundary.
 */
class ExamplesTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String ADMIN_TOKEN = "admin-token-for-the-examples";

    @TempDir
    Path dataDirectory;

    @Test
    void aRuntimeReportsThroughABuildBoundaryToAControlPlaneOnH2AndTheWatcherSeesIt() {
        try (ControlPlaneOnH2 controlPlane = ControlPlaneOnH2.start(dataDirectory, 0, ADMIN_TOKEN).block(TIMEOUT);
             AdminClient admin = AdminClient.connect(ControlPlaneAddress.tcp(controlPlane.address()), ADMIN_TOKEN)
                     .block(TIMEOUT)) {
            String identity = admin.createWorkspace(Workspace.named("example")).block(TIMEOUT);
            admin.startBuild("example").block(TIMEOUT);

            try (ReportingRuntime runtime = new ReportingRuntime(ControlPlaneAddress.tcp(controlPlane.address()),
                    identity)) {
                StepVerifier.create(WatchRows.lines(admin, "example"))
                        .expectNextMatches(line -> line.startsWith("example build 1 CREATED"))
                        .then(() -> runtime.start(() -> { }))
                        .expectNextMatches(line -> line.startsWith("example build 1 STARTING"))
                        .expectNextMatches(line -> line.startsWith("example build 1 READY started "))
                        // A new build: the runtime is fenced off build 1 and replays onto build 2 by itself.
                        .then(() -> admin.startBuild("example").block(TIMEOUT))
                        .expectNextMatches(line -> line.startsWith("example build 1 READY (retired)"))
                        .expectNextMatches(line -> line.startsWith("example build 2 CREATED"))
                        .expectNextMatches(line -> line.startsWith("example build 2 STARTING"))
                        .expectNextMatches(line -> line.startsWith("example build 2 READY started "))
                        .then(() -> StepVerifier.create(runtime.stop(TIMEOUT)).expectComplete().verify(TIMEOUT))
                        .expectNextMatches(line -> line.startsWith("example build 2 SHUTTING_DOWN"))
                        .expectNextMatches(line -> line.startsWith("example build 2 OFF"))
                        .thenCancel()
                        .verify(TIMEOUT);
            }
        }
    }
}
