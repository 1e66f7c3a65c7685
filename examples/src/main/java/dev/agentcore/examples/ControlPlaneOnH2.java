package dev.agentcore.examples;

import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.store.R2dbcAgentStore;
import dev.agentcore.transport.ControlPlaneServer;
import dev.agentcore.transport.ControlPlaneServer.RunningControlPlane;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import reactor.core.publisher.Mono;

/**
 * Example: a control plane embedded in your own process, on the durable H2 store. Run it as
 * {@code ControlPlaneOnH2 DATA_DIRECTORY PORT} with the admin token in {@code AGENTCORE_ADMIN_TOKEN};
 * it serves until the process is stopped.
 */
public final class ControlPlaneOnH2 implements AutoCloseable {

    private final R2dbcAgentStore store;
    private final RunningControlPlane server;

    private ControlPlaneOnH2(R2dbcAgentStore store, RunningControlPlane server) {
        this.store = store;
        this.server = server;
    }

    /** Opens (or creates) the H2 file in {@code dataDirectory} and listens on 127.0.0.1:{@code port} (0: any free port). */
    public static Mono<ControlPlaneOnH2> start(Path dataDirectory, int port, String adminToken) {
        return R2dbcAgentStore.openH2File(dataDirectory).flatMap(store -> {
            LifecycleService lifecycle = LifecycleService.builder(store).build();
            AccessService access = new AccessService(store, store);
            return ControlPlaneServer.builder(lifecycle, access)
                    .tcp("127.0.0.1", port)
                    .adminToken(adminToken)
                    .build()
                    .start()
                    .map(server -> new ControlPlaneOnH2(store, server))
                    // The store is ours to close if the server does not start.
                    .doOnError(error -> store.dispose());
        });
    }

    /** Where agents and admin clients connect. */
    public InetSocketAddress address() {
        return server.tcpAddress();
    }

    /** Completes when the server has stopped. */
    public Mono<Void> onClose() {
        return server.onClose();
    }

    /** Stops the server, then closes the store. */
    @Override
    public void close() {
        server.dispose();
        store.dispose();
    }

    public static void main(String[] args) {
        if (args.length != 2 || System.getenv("AGENTCORE_ADMIN_TOKEN") == null) {
            System.err.println("usage: AGENTCORE_ADMIN_TOKEN=... ControlPlaneOnH2 DATA_DIRECTORY PORT");
            System.exit(2);
        }
        ControlPlaneOnH2 controlPlane = start(Path.of(args[0]), Integer.parseInt(args[1]),
                System.getenv("AGENTCORE_ADMIN_TOKEN")).block();
        Runtime.getRuntime().addShutdownHook(new Thread(controlPlane::close));
        System.out.println("control plane listening on " + controlPlane.address());
        controlPlane.onClose().block();
    }
}
