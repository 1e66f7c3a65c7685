package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.ADMIN_TOKEN;
import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import io.rsocket.RSocket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

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
}
