package dev.agentcore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * TLS and addresses through the command line, as the README shows them: a certificate made
 * with openssl, a control plane on tls:// and wss://, an agent and the admin commands trusting
 * it with --tls-ca; IPv6 addresses; and the warning for a plaintext listener beyond loopback.
 */
class TlsCommandLineTest extends CommandLineProcesses {

    /** The README's command, with the names the test uses. */
    private void makeCertificate() throws Exception {
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "365",
                "-keyout", "control-plane.key", "-out", "control-plane.crt", "-subj", "/CN=agentcore",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1")
                .directory(directory.toFile()).redirectErrorStream(true).start();
        String output = new String(openssl.getInputStream().readAllBytes());
        assertThat(openssl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(openssl.exitValue()).as(output).isZero();
    }

    @Test
    void anAgentAndTheAdminCommandsReachAControlPlaneOverTlsWhenTheyTrustItsCertificate() throws Exception {
        makeCertificate();
        start("control-plane", "control-plane", "--listen", "127.0.0.1:0", "--ws-listen", "127.0.0.1:0",
                "--data-dir", "data", "--tls-cert", "control-plane.crt", "--tls-key", "control-plane.key");
        String tcp = listeningAddress("control-plane.out");
        assertThat(tcp).startsWith("tls://127.0.0.1:");
        String wss = Files.readString(directory.resolve("control-plane.out")).lines()
                .filter(line -> line.contains("wss://")).map(line -> line.substring(line.indexOf("wss://")))
                .findFirst().orElseThrow();
        List<String> trusted = List.of("--tls-ca", "control-plane.crt", "--admin-token-file", "data/admin.token");

        Result created = run(with(trusted, "workspace", "create", "dev", "--identity-file", "dev.identity",
                "--control-plane", tcp));
        assertThat(created.exitCode()).as(created.stderr()).isZero();
        Result started = run(with(trusted, "build", "start", "dev", "--control-plane", wss));
        assertThat(started.exitCode()).as(started.stderr()).isZero();
        start("agent", "agent", "--control-plane", wss, "--tls-ca", "control-plane.crt", "--identity-file", "dev.identity");
        Result ready = run(with(trusted, "wait", "dev", "--timeout", "60s", "--control-plane", tcp));
        assertThat(ready.exitCode()).as(ready.stdout() + ready.stderr()).isZero();

        Result untrusting = run("status", "dev", "--control-plane", tcp, "--admin-token-file", "data/admin.token");
        assertThat(untrusting.exitCode()).isEqualTo(ExitCodes.ERROR);
        assertThat(untrusting.stderr().strip()).doesNotContain("\n").doesNotContain("Exception")
                .contains("the control plane's certificate is not trusted; pass --tls-ca");
        Result plaintext = run("status", "dev", "--control-plane", tcp.replace("tls://", "tcp://"), "--admin-token-file",
                "data/admin.token");
        assertThat(plaintext.exitCode()).isEqualTo(ExitCodes.ERROR);
        Result caForPlaintext = run("status", "dev", "--control-plane", tcp.replace("tls://", "tcp://"),
                "--tls-ca", "control-plane.crt");
        assertThat(caForPlaintext.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(caForPlaintext.stderr()).contains("apply to tls:// and wss:// addresses");
    }

    @Test
    void ipv6AddressesInBracketsWorkForListenersAndClients() throws Exception {
        start("control-plane", "control-plane", "--listen", "[::1]:0", "--data-dir", "data");
        String address = listeningAddress("control-plane.out");
        assertThat(address).matches("tcp://\\[[0-9a-f:]+\\]:[0-9]+");

        Result created = run("workspace", "create", "dev", "--control-plane", address.substring("tcp://".length()),
                "--admin-token-file", "data/admin.token");

        assertThat(created.exitCode()).as(created.stderr()).isZero();
    }

    @Test
    void aPlaintextListenerBeyondLoopbackIsWarnedAbout() throws Exception {
        start("control-plane", "control-plane", "--listen", "0.0.0.0:0", "--data-dir", "data");
        listeningAddress("control-plane.out");

        assertThat(Files.readString(directory.resolve("control-plane.err")))
                .contains("is not loopback and has no TLS");
    }

    private static String[] with(List<String> options, String... args) {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(args), options.stream()).toArray(String[]::new);
    }
}
