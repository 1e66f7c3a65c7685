package dev.agentcore.cli;

import dev.agentcore.core.Manifest;
import dev.agentcore.core.agent.AgentChangePolicy;
import dev.agentcore.transport.AgentConnector;
import dev.agentcore.transport.ControlPlaneAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.Exceptions;

@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Runs an agent: connects, runs the manifest's startup scripts (STARTING, then READY, "
                + "START_TIMEOUT or START_ERROR) and reports over RSocket, across reconnects and build boundaries.",
                "On SIGTERM or SIGINT: SHUTTING_DOWN, the shutdown scripts, OFF, then exit."})
final class AgentCommand implements Callable<Integer> {

    @Option(names = "--control-plane", paramLabel = "HOST:PORT", defaultValue = AdminOptions.DEFAULT_CONTROL_PLANE,
            split = ",", description = "The control plane, or several replicas separated by commas: HOST:PORT "
            + "(TCP) or ws://HOST:PORT. Default: ${DEFAULT-VALUE}.")
    String[] controlPlanes;

    @Option(names = "--identity-file", paramLabel = "FILE", required = true,
            description = "File holding the workspace's instance identity (from `workspace create`).")
    Path identityFile;

    @Option(names = "--on-agent-change", paramLabel = "replay|reinitialize", defaultValue = "replay",
            description = "When a new build gives the agent a new row: replay the lifecycle onto it, or re-run "
                    + "startup. Default: ${DEFAULT-VALUE}.")
    AgentChangePolicy policy;

    @Override
    public Integer call() throws Exception {
        String identity;
        try {
            identity = Files.readString(identityFile).strip();
        } catch (IOException e) {
            throw new CommandFailure("cannot read the instance identity from " + ErrorMessages.unreadable(identityFile, e));
        }
        if (identity.isEmpty()) {
            throw new CommandFailure("cannot read the instance identity from " + ErrorMessages.oneLine(identityFile.toString())
                    + ": the file is empty; `agentcore workspace create NAME --identity-file FILE` writes one");
        }
        AgentConnector.Builder connector;
        try {
            connector = AgentConnector.builder(ControlPlaneAddress.parse(controlPlanes[0]), identity);
            for (int i = 1; i < controlPlanes.length; i++) {
                connector.alternateAddresses(ControlPlaneAddress.parse(controlPlanes[i]));
            }
        } catch (IllegalArgumentException e) {
            throw new CommandFailure("--control-plane: " + e.getMessage(), ExitCodes.USAGE);
        }
        AgentRuntime runtime = new AgentRuntime(connector.build(), policy, false);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            main.interrupt();
            runtime.shutdown(Duration.ofSeconds(10));
            runtime.close();
        }, "agentcore-shutdown"));

        Manifest manifest;
        try {
            manifest = runtime.awaitFirstManifest(Duration.ofDays(3650));
        } catch (RuntimeException e) {
            if (Exceptions.unwrap(e) instanceof InterruptedException) {
                return ExitCodes.OK; // SIGTERM before the first session: the shutdown hook does the rest
            }
            throw e;
        }
        runtime.runStartup(manifest);
        try {
            runtime.serveReinitializations();
        } catch (InterruptedException shuttingDown) {
            Thread.currentThread().interrupt();
        }
        return ExitCodes.OK;
    }
}
