package dev.agentcore.cli;

import dev.agentcore.transport.AdminClient;
import dev.agentcore.transport.ControlPlaneAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How admin commands reach the control plane: its address and the admin token. */
final class AdminOptions {

    static final String DEFAULT_CONTROL_PLANE = "127.0.0.1:7878";

    @Option(names = "--control-plane", paramLabel = "ADDRESS[,ADDRESS...]", defaultValue = DEFAULT_CONTROL_PLANE,
            description = "The control plane: HOST:PORT (TCP), ws://HOST:PORT, or over TLS tls://HOST:PORT or "
                    + "wss://HOST:PORT; an IPv6 host in brackets ([::1]:7878). Several, comma-separated (replicas on "
                    + "one database): the first that answers, the next when it is lost. Default: ${DEFAULT-VALUE}.")
    String controlPlane;

    @Mixin
    ClientTlsOptions tls = new ClientTlsOptions();

    @Option(names = "--admin-token-file", paramLabel = "FILE", defaultValue = "agentcore-data/admin.token",
            description = "File holding the admin token (the control plane writes it on first start). "
                    + Secrets.ADMIN_TOKEN + ", when set, wins. Default: ${DEFAULT-VALUE}.")
    Path adminTokenFile;

    String adminToken() {
        return Secrets.fromProcess().fromEnvironment(Secrets.ADMIN_TOKEN).orElseGet(() -> Secrets.fromFile(adminTokenFile,
                "admin token", "pass --admin-token-file or set " + Secrets.ADMIN_TOKEN));
    }

    List<ControlPlaneAddress> addresses() {
        List<ControlPlaneAddress> addresses = new ArrayList<>();
        for (String address : controlPlane.split(",")) {
            try {
                addresses.add(tls.applyTo(ControlPlaneAddress.parse(address.strip())));
            } catch (IllegalArgumentException e) {
                throw new CommandFailure("--control-plane: " + e.getMessage(), ExitCodes.USAGE);
            }
        }
        return addresses;
    }

    AdminClient connect() {
        return AdminClient.connect(addresses(), adminToken()).block(Duration.ofSeconds(10 * addresses().size()));
    }
}
