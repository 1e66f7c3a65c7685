package dev.agentcore.cli;

import dev.agentcore.transport.ClientTls;
import dev.agentcore.transport.ControlPlaneAddress;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How a client checks a control plane reached at a tls:// or wss:// address, and its own certificate for mutual TLS. */
final class ClientTlsOptions {

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "PEM certificates to trust for tls:// and wss:// addresses (a private CA's, or the control "
                    + "plane's own). Without it, the JVM's trust store.")
    Path trusted;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate chain this client presents, for a control plane that asks for one (mutual TLS).")
    Path certificate;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PKCS#8 PEM private key of --tls-cert.")
    Path privateKey;

    /** The address with these settings if it is a TLS one; a usage error if they were given for a plaintext one. */
    ControlPlaneAddress applyTo(ControlPlaneAddress address) {
        boolean given = trusted != null || certificate != null || privateKey != null;
        if ((certificate == null) != (privateKey == null)) {
            throw new CommandFailure("--tls-cert and --tls-key go together", ExitCodes.USAGE);
        }
        if (address.tls() == null) {
            if (given) {
                throw new CommandFailure("--tls-ca, --tls-cert and --tls-key apply to tls:// and wss:// addresses; "
                        + address + " is plaintext", ExitCodes.USAGE);
            }
            return address;
        }
        ClientTls tls = new ClientTls(trusted, certificate, privateKey);
        return address.withTls(tls);
    }
}
