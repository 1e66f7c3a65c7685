package dev.agentcore.cli;

import dev.agentcore.core.Manifest;
import dev.agentcore.core.agent.AgentChangePolicy;
import dev.agentcore.transport.AgentConnector;
import dev.agentcore.transport.ControlPlaneAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import reactor.core.Exceptions;

@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Runs an agent: connects, runs the manifest's startup scripts (STARTING, then READY, "
                + "START_TIMEOUT or START_ERROR) and reports over RSocket, across reconnects and build boundaries.",
                "On SIGTERM or SIGINT: SHUTTING_DOWN, the shutdown scripts, OFF, then exit."})
final class AgentCommand implements Callable<Integer> {

    @Option(names = "--control-plane", paramLabel = "HOST:PORT", defaultValue = AdminOptions.DEFAULT_CONTROL_PLANE,
            split = ",", description = "The control plane, or several replicas separated by commas: HOST:PORT "
            + "(TCP), ws://HOST:PORT, or over TLS tls://HOST:PORT or wss://HOST:PORT; an IPv6 host in brackets "
            + "([::1]:7878). Default: ${DEFAULT-VALUE}.")
    String[] controlPlanes;

    @Mixin
    ClientTlsOptions tls = new ClientTlsOptions();

    @Option(names = "--identity-file", paramLabel = "FILE",
            description = "File holding the workspace's instance identity (from `workspace create`). Without it, "
                    + Secrets.IDENTITY + " holds the identity.")
    Path identityFile;

    @Option(names = "--on-agent-change", paramLabel = "auto|replay|reinitialize", defaultValue = "auto",
            description = "When a new build gives the agent a new row: auto replays the lifecycle onto it when the "
                    + "new build's manifest runs the same scripts and re-runs startup when they changed; replay "
                    + "always replays; reinitialize always re-runs startup. Default: ${DEFAULT-VALUE}.")
    AgentChangePolicy policy;

    /** The instance identity: --identity-file, else the environment; a usage error without either. */
    private String identity(Secrets secrets) {
        if (identityFile != null) {
            return Secrets.fromFile(identityFile, "instance identity",
                    "`agentcore workspace create NAME --identity-file FILE` writes one");
        }
        return secrets.fromEnvironment(Secrets.IDENTITY).orElseThrow(() -> new CommandFailure(
                "no instance identity: pass --identity-file FILE or set " + Secrets.IDENTITY, ExitCodes.USAGE));
    }

    @Override
    public Integer call() throws Exception {
        String identity = identity(Secrets.fromProcess());
        AgentConnector.Builder connector;
        try {
            connector = AgentConnector.builder(tls.applyTo(ControlPlaneAddress.parse(controlPlanes[0])), identity);
            for (int i = 1; i < controlPlanes.length; i++) {
                connector.alternateAddresses(tls.applyTo(ControlPlaneAddress.parse(controlPlanes[i])));
            }
        } catch (IllegalArgumentException e) {
            throw new CommandFailure("--control-plane: " + e.getMessage(), ExitCodes.USAGE);
        }
        AgentConnector built;
        try {
            built = connector.build();
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(e.getMessage()); // TLS files that cannot be used, named
        }
        AgentRuntime runtime = new AgentRuntime(built, policy, false);
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
