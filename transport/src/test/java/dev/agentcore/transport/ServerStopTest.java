package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.ADMIN_TOKEN;
import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.LifecycleService;
import io.rsocket.RSocket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Stopping a control plane: once {@code disposeNow} returns, no connection of it is open. */
class ServerStopTest {

    @Test
    void disposeNowReturnsOnceEveryConnectionIsClosed() {
        ControlPlaneFixture fixture = new ControlPlaneFixture();
        List<RSocket> clients = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            clients.add(RSocketClients.connect(i % 2 == 0 ? fixture.tcp()
                    : fixture.address(ControlPlaneAddress.Transport.WEBSOCKET), ADMIN_TOKEN).block(TIMEOUT));
        }
        // Every SETUP accepted: a request answered on each.
        Flux.fromIterable(clients).concatMap(client -> RSocketClients.requestStream(client, Routes.WORKSPACES_LIST,
                new byte[0], data -> data)).blockLast(TIMEOUT);
        assertThat(fixture.openConnections()).isEqualTo(50);

        fixture.stop();

        assertThat(fixture.openConnections()).isZero();
        clients.forEach(RSocket::dispose);
    }

    @Test
    void aSetupStillBeingCheckedWhenTheServerStopsIsRefusedAndDoesNotHoldTheStop() throws Exception {
        // The admin token's hash is read for the client's SETUP, then its answer held until the server is disposed.
        HeldAdminTokenCheck holding = new HeldAdminTokenCheck();
        InMemoryAgentStore rows = new InMemoryAgentStore();
        ControlPlaneServer.RunningControlPlane server = ControlPlaneServer.builder(LifecycleService.builder(rows).build(),
                        new AccessService(rows, holding))
                .tcp("127.0.0.1", 0).adminToken(ADMIN_TOKEN).build().start().block(TIMEOUT);
        ControlPlaneAddress address = ControlPlaneAddress.tcp("127.0.0.1", server.tcpAddress().getPort());
        Mono<RSocket> connecting = RSocketClients.connect(address, ADMIN_TOKEN).cache();
        Mono<?> listing = connecting.flatMapMany(connection -> RSocketClients.requestStream(connection,
                Routes.WORKSPACES_LIST, new byte[0], data -> data)).then().cache();
        listing.subscribe(ignored -> { }, ignored -> { });
        holding.awaitCheck(TIMEOUT);

        server.dispose();
        holding.answer();

        StepVerifier.create(server.onClose()).expectComplete().verify(TIMEOUT);
        assertThat(server.openConnections()).isZero();
        StepVerifier.create(listing).expectError().verify(TIMEOUT);
        connecting.block(TIMEOUT).dispose();
    }
}
