package dev.agentcore.transport;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How a client checks a control plane's TLS certificate, and which certificate it presents for
 * mutual TLS: the certificates it trusts (PEM; null: the JVM's trust store), and its own
 * certificate chain and PKCS#8 private key (PEM; both null: none). The host name it connects to
 * must be in the control plane's certificate.
 *
 * @param trustedCertificates PEM file of the certificates (or their issuers) to trust; null for the JVM's trust store
 * @param certificateChain PEM file of the client's own certificate chain, for mutual TLS; null for none
 * @param privateKey PEM file of the client's PKCS#8 private key; null exactly when {@code certificateChain} is
 */
public record ClientTls(Path trustedCertificates, Path certificateChain, Path privateKey) {

    /** Trusts what the JVM's trust store trusts, presents no certificate. */
    public static final ClientTls SYSTEM_TRUST = new ClientTls(null, null, null);

    public ClientTls {
        if ((certificateChain == null) != (privateKey == null)) {
            throw new IllegalArgumentException("a client certificate needs both its chain and its private key");
        }
    }

    /** Trusts the certificates in this PEM file (a private CA's, or the control plane's own). */
    public static ClientTls trusting(Path trustedCertificates) {
        return new ClientTls(java.util.Objects.requireNonNull(trustedCertificates, "trustedCertificates"), null, null);
    }

    /** The same, presenting this certificate chain and private key (PEM) for mutual TLS. */
    public ClientTls withClientCertificate(Path certificateChain, Path privateKey) {
        return new ClientTls(trustedCertificates, java.util.Objects.requireNonNull(certificateChain, "certificateChain"),
                java.util.Objects.requireNonNull(privateKey, "privateKey"));
    }

    /** Netty's client context for these settings; IllegalArgumentException naming the file that cannot be used. */
    SslContext sslContext() {
        SslContextBuilder builder = SslContextBuilder.forClient();
        try {
            if (trustedCertificates != null) {
                builder.trustManager(ServerTls.readable(trustedCertificates, "trusted certificates").toFile());
            }
            if (certificateChain != null) {
                builder.keyManager(ServerTls.readable(certificateChain, "client certificate chain").toFile(),
                        ServerTls.readable(privateKey, "client private key").toFile());
            }
            return builder.build();
        } catch (IOException | RuntimeException e) {
            throw ServerTls.unusable("client TLS settings", e);
        }
    }
}
