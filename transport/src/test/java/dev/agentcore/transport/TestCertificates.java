package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made at test time with {@code openssl} (a real tool, as an operator would use):
 * self-signed, one day, EC P-256, PKCS#8 keys in PEM. A self-signed certificate is its own
 * issuer, so a peer trusts it by trusting the certificate file itself.
 */
final class TestCertificates {

    /** A certificate file and its private key file. */
    record Pair(Path certificate, Path privateKey) {
    }

    private TestCertificates() {
    }

    /** A certificate for these subject alternative names (for example {@code IP:127.0.0.1,DNS:localhost}). */
    static Pair make(Path directory, String name, String subjectAltNames) throws IOException, InterruptedException {
        Path certificate = directory.resolve(name + ".crt");
        Path key = directory.resolve(name + ".key");
        List<String> command = new ArrayList<>(List.of("openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-keyout", key.toString(), "-out", certificate.toString(), "-subj", "/CN=" + name));
        if (subjectAltNames != null) {
            command.addAll(List.of("-addext", "subjectAltName=" + subjectAltNames));
        }
        Process openssl = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(openssl.getInputStream().readAllBytes());
        assertThat(openssl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(openssl.exitValue()).as("openssl: %s", output).isZero();
        assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----"); // PKCS#8, what Netty reads
        return new Pair(certificate, key);
    }
}
