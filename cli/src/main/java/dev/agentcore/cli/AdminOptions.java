package dev.agentcore.cli;

import dev.agentcore.transport.AdminClient;
import dev.agentcore.transport.ControlPlaneAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/** How admin commands reach the control plane: its address and the admin token. */
final class AdminOptions {

    static final String DEFAULT_CONTROL_PLANE = "127.0.0.1:7878";

    @Option(names = "--control-plane", paramLabel = "HOST:PORT", defaultValue = DEFAULT_CONTROL_PLANE,
            description = "The control plane: HOST:PORT (TCP) or ws://HOST:PORT. Default: ${DEFAULT-VALUE}.")
    String controlPlane;

    @Option(names = "--admin-token-file", paramLabel = "FILE", defaultValue = "agentcore-data/admin.token",
            description = "File holding the admin token (the control plane writes it on first start). "
                    + "AGENTCORE_ADMIN_TOKEN, when set, wins. Default: ${DEFAULT-VALUE}.")
    Path adminTokenFile;

    String adminToken() {
        String fromEnvironment = System.getenv("AGENTCORE_ADMIN_TOKEN");
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment.strip();
        }
        try {
            return Files.readString(adminTokenFile).strip();
        } catch (IOException e) {
            throw new CommandFailure("cannot read the admin token from " + ErrorMessages.unreadable(adminTokenFile, e)
                    + ": pass --admin-token-file or set AGENTCORE_ADMIN_TOKEN");
        }
    }

    ControlPlaneAddress address() {
        try {
            return ControlPlaneAddress.parse(controlPlane);
        } catch (IllegalArgumentException e) {
            throw new CommandFailure("--control-plane: " + e.getMessage(), ExitCodes.USAGE);
        }
    }

    AdminClient connect() {
        return AdminClient.connect(address(), adminToken()).block(Duration.ofSeconds(10));
    }
}
