package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.ADMIN_TOKEN;
import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.control.Workspace;
import java.nio.file.Path;
import java.time.Clock;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

/**
 * TLS on both listeners, with certificates made at test time: what a client must trust, what a
 * plaintext client meets, and mutual TLS.
 */
class TlsTest {

    @TempDir
    static Path certificates;
    private static TestCertificates.Pair server;
    private static TestCertificates.Pair elsewhere;
    private static TestCertificates.Pair client;
    private static TestCertificates.Pair stranger;

    private ControlPlaneFixture fixture;
    private Disposable agent;

    @BeforeAll
    static void makeCertificates() throws Exception {
        server = TestCertificates.make(certificates, "control-plane", "IP:127.0.0.1,DNS:localhost");
        elsewhere = TestCertificates.make(certificates, "elsewhere", "DNS:elsewhere.example");
        client = TestCertificates.make(certificates, "agent", null);
        stranger = TestCertificates.make(certificates, "stranger", null);
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.dispose();
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    private void start(ServerTls tls) {
        fixture = new ControlPlaneFixture(builder -> builder.tls(tls));
    }

    private ControlPlaneAddress address(ControlPlaneAddress.Transport transport, ClientTls tls) {
        return fixture.address(transport).withTls(tls);
    }

    @ParameterizedTest
    @EnumSource(ControlPlaneAddress.Transport.class)
    void anAgentThatTrustsTheCertificateReportsOverTls(ControlPlaneAddress.Transport transport) {
        start(ServerTls.of(server.certificate(), server.privateKey()));
        String identity = fixture.workspaceWithBuild("ws");
        Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
        ControlPlaneAddress address = address(transport, ClientTls.trusting(server.certificate()));
        agent = LifecycleReporter.builder(lifecycle).build()
                .report(AgentConnector.builder(address, identity).build().sessions()).subscribe();

        lifecycle.transitionTo(LifecycleState.STARTING);
        lifecycle.transitionTo(LifecycleState.READY);

        StepVerifier.create(fixture.lifecycle.watch("ws").filter(row -> row.state() == LifecycleState.READY).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
        assertThat(address.toString()).startsWith(transport == ControlPlaneAddress.Transport.TCP ? "tls://" : "wss://");
    }

    @ParameterizedTest
    @EnumSource(ControlPlaneAddress.Transport.class)
    void aClientThatDoesNotTrustTheCertificateIsRefused(ControlPlaneAddress.Transport transport) {
        start(ServerTls.of(server.certificate(), server.privateKey()));

        assertRefusedDuringTheHandshake(address(transport, ClientTls.SYSTEM_TRUST));
        assertRefusedDuringTheHandshake(address(transport, ClientTls.trusting(stranger.certificate())));
    }

    @Test
    void aCertificateForAnotherHostIsRefusedEvenWhenTrusted() {
        start(ServerTls.of(elsewhere.certificate(), elsewhere.privateKey()));

        assertRefusedDuringTheHandshake(address(ControlPlaneAddress.Transport.TCP, ClientTls.trusting(elsewhere.certificate())));
    }

    @ParameterizedTest
    @EnumSource(ControlPlaneAddress.Transport.class)
    void aPlaintextClientOnATlsPortIsRefused(ControlPlaneAddress.Transport transport) {
        start(ServerTls.of(server.certificate(), server.privateKey()));

        StepVerifier.create(AdminClient.connect(fixture.address(transport), ADMIN_TOKEN)
                        .flatMap(admin -> admin.createWorkspace(Workspace.named("ws")).doFinally(signal -> admin.dispose())))
                .expectError()
                .verify(TIMEOUT);
        assertThat(fixture.workspaces.findWorkspace("ws").blockOptional(TIMEOUT)).isEmpty();
    }

    @Test
    void mutualTlsRefusesAClientWithoutACertificateOrWithAnUntrustedOne() {
        start(ServerTls.of(server.certificate(), server.privateKey()).requiringClientCertificates(client.certificate()));
        ClientTls trusting = ClientTls.trusting(server.certificate());

        assertRefusedByTheServer(address(ControlPlaneAddress.Transport.TCP, trusting));
        assertRefusedByTheServer(address(ControlPlaneAddress.Transport.TCP,
                trusting.withClientCertificate(stranger.certificate(), stranger.privateKey())));
        assertRefusedByTheServer(address(ControlPlaneAddress.Transport.WEBSOCKET, trusting));
    }

    @ParameterizedTest
    @EnumSource(ControlPlaneAddress.Transport.class)
    void mutualTlsAcceptsAClientWithATrustedCertificate(ControlPlaneAddress.Transport transport) {
        start(ServerTls.of(server.certificate(), server.privateKey()).requiringClientCertificates(client.certificate()));
        ControlPlaneAddress address = address(transport, ClientTls.trusting(server.certificate())
                .withClientCertificate(client.certificate(), client.privateKey()));

        StepVerifier.create(AdminClient.connect(address, ADMIN_TOKEN)
                        .flatMap(admin -> admin.createWorkspace(Workspace.named("ws")).doFinally(signal -> admin.dispose())))
                .assertNext(identity -> assertThat(identity).isNotBlank())
                .verifyComplete();
    }

    @Test
    void unusableFilesAreNamedWhenTheServerOrConnectorIsBuilt() {
        Path missing = certificates.resolve("missing.pem");

        assertThatThrownBy(() -> new ControlPlaneFixture(builder -> builder.tls(ServerTls.of(missing, server.privateKey()))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing.pem");
        assertThatThrownBy(() -> AgentConnector.builder(ControlPlaneAddress.parse("tls://127.0.0.1:1")
                        .withTls(ClientTls.trusting(missing)), "identity").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing.pem");
        assertThatThrownBy(() -> ServerTls.of(server.certificate(), client.certificate()).sslContext())
                .as("a certificate where the key should be")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("server TLS settings");
    }

    /** The client ends the handshake: it does not trust what it was shown. */
    private static void assertRefusedDuringTheHandshake(ControlPlaneAddress address) {
        StepVerifier.create(AdminClient.connect(address, ADMIN_TOKEN).flatMap(admin -> admin.rows("ws", 1).then()))
                .expectErrorSatisfies(error -> assertThat(causes(error)).as(address.toString()).anyMatch(SSLException.class::isInstance))
                .verify(TIMEOUT);
    }

    /** The server ends it: no client certificate it trusts. The client may learn it from an alert or a closed connection. */
    private static void assertRefusedByTheServer(ControlPlaneAddress address) {
        StepVerifier.create(AdminClient.connect(address, ADMIN_TOKEN)
                        .flatMap(admin -> admin.createWorkspace(Workspace.named("refused")).doFinally(signal -> admin.dispose())))
                .expectError()
                .verify(TIMEOUT);
    }

    private static java.util.List<Throwable> causes(Throwable error) {
        java.util.List<Throwable> causes = new java.util.ArrayList<>();
        for (Throwable cause = error; cause != null && !causes.contains(cause); cause = cause.getCause()) {
            causes.add(cause);
        }
        return causes;
    }
}
