package dev.agentcore.transport;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS on a control plane's listeners: its certificate chain and PKCS#8 private key (PEM files),
 * and, for mutual TLS, the certificates (PEM) that a client's certificate must be issued by:
 * with them, a client without such a certificate is refused during the handshake.
 *
 * @param certificateChain PEM file of the server's certificate chain, its own certificate first
 * @param privateKey PEM file of its PKCS#8 private key, unencrypted
 * @param trustedClientIssuers PEM file of the issuers of accepted client certificates; null: no client certificate asked
 */
public record ServerTls(Path certificateChain, Path privateKey, Path trustedClientIssuers) {

    public ServerTls {
        Objects.requireNonNull(certificateChain, "certificateChain");
        Objects.requireNonNull(privateKey, "privateKey");
    }

    /** TLS with this certificate chain and private key; no client certificate asked. */
    public static ServerTls of(Path certificateChain, Path privateKey) {
        return new ServerTls(certificateChain, privateKey, null);
    }

    /** The same, requiring every client to present a certificate issued by one of these (mutual TLS). */
    public ServerTls requiringClientCertificates(Path trustedClientIssuers) {
        return new ServerTls(certificateChain, privateKey, Objects.requireNonNull(trustedClientIssuers, "trustedClientIssuers"));
    }

    /** Netty's server context; IllegalArgumentException naming what cannot be used, read when the server is built. */
    SslContext sslContext() {
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(readable(certificateChain, "certificate chain").toFile(),
                    readable(privateKey, "private key").toFile());
            if (trustedClientIssuers != null) {
                builder.trustManager(readable(trustedClientIssuers, "trusted client issuers").toFile())
                        .clientAuth(ClientAuth.REQUIRE);
            }
            return builder.build();
        } catch (IOException | RuntimeException e) {
            throw unusable("server TLS settings", e);
        }
    }

    static Path readable(Path file, String what) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException("the " + what + " file " + file + " cannot be read");
        }
        return file;
    }

    static IllegalArgumentException unusable(String what, Exception cause) {
        String message = cause.getMessage();
        for (Throwable inner = cause.getCause(); inner != null; inner = inner.getCause()) {
            if (inner.getMessage() != null) {
                message = message + ": " + inner.getMessage();
            }
        }
        return new IllegalArgumentException(what + ": " + message, cause);
    }
}
