package dev.agentcore.transport;

import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.InMemoryWorkspaceStore;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.ControlPlaneServer.RunningControlPlane;
import java.time.Duration;
import java.util.function.UnaryOperator;

/**
 * A real control plane on 127.0.0.1 (TCP and WebSocket, ports picked by the system) over
 * in-memory stores that outlive a restart, for tests.
 */
final class ControlPlaneFixture implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(20);
    static final String ADMIN_TOKEN = "admin-token-for-tests-only";

    final InMemoryAgentStore rows = new InMemoryAgentStore();
    final InMemoryWorkspaceStore workspaces = new InMemoryWorkspaceStore();
    final LifecycleService lifecycle = LifecycleService.builder(rows).build();
    final AccessService access = new AccessService(rows, workspaces);
    private final UnaryOperator<ControlPlaneServer.Builder> customize;
    private RunningControlPlane running;
    private int tcpPort;
    private int websocketPort;

    ControlPlaneFixture() {
        this(UnaryOperator.identity());
    }

    ControlPlaneFixture(UnaryOperator<ControlPlaneServer.Builder> customize) {
        this.customize = customize;
        start();
    }

    void start() {
        ControlPlaneServer.Builder builder = ControlPlaneServer.builder(lifecycle, access)
                .tcp("127.0.0.1", tcpPort)
                .websocket("127.0.0.1", websocketPort)
                .adminToken(ADMIN_TOKEN);
        running = customize.apply(builder).build().start().block(TIMEOUT);
        tcpPort = running.tcpAddress().getPort();
        websocketPort = running.websocketAddress().getPort();
    }

    /** Stops the listeners, cutting every connection; {@link #start()} binds the same ports again. */
    void stop() {
        running.disposeNow(TIMEOUT);
    }

    ControlPlaneAddress address(ControlPlaneAddress.Transport transport) {
        return transport == ControlPlaneAddress.Transport.TCP
                ? ControlPlaneAddress.tcp("127.0.0.1", tcpPort)
                : ControlPlaneAddress.websocket("127.0.0.1", websocketPort);
    }

    ControlPlaneAddress tcp() {
        return address(ControlPlaneAddress.Transport.TCP);
    }

    /** Creates a workspace and its first build; returns the instance identity. */
    String workspaceWithBuild(String name) {
        String identity = access.createWorkspace(Workspace.named(name)).block(TIMEOUT);
        lifecycle.startBuild(name).block(TIMEOUT);
        return identity;
    }

    int openConnections() {
        return running.openConnections();
    }

    AgentRow latest(String workspace) {
        return rows.latestRow(workspace).block(TIMEOUT);
    }

    AdminClient admin() {
        return AdminClient.connect(tcp(), ADMIN_TOKEN).block(TIMEOUT);
    }

    @Override
    public void close() {
        running.disposeNow(TIMEOUT);
    }
}
