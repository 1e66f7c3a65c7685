package dev.agentcore.examples;

import dev.agentcore.core.control.AgentRow;
import dev.agentcore.transport.AdminClient;
import dev.agentcore.transport.ControlPlaneAddress;
import reactor.core.publisher.Flux;

/**
 * Example: an admin client that prints every change of a workspace's rows, one line each. Run it
 * as {@code WatchRows HOST:PORT WORKSPACE} with the admin token in {@code AGENTCORE_ADMIN_TOKEN}.
 */
public final class WatchRows {

    private WatchRows() {
    }

    /** The workspace's latest row, then every change to its rows, as lines. */
    public static Flux<String> lines(AdminClient admin, String workspace) {
        return admin.watch(workspace).map(WatchRows::line);
    }

    static String line(AgentRow row) {
        return row.workspace() + " build " + row.buildNumber() + " " + row.state()
                + (row.active() ? "" : " (retired)")
                + (row.readyAt() == null || row.startedAt() == null ? ""
                        : " started " + row.startedAt() + " ready " + row.readyAt());
    }

    public static void main(String[] args) {
        if (args.length != 2 || System.getenv("AGENTCORE_ADMIN_TOKEN") == null) {
            System.err.println("usage: AGENTCORE_ADMIN_TOKEN=... WatchRows HOST:PORT WORKSPACE");
            System.exit(2);
        }
        try (AdminClient admin = AdminClient.connect(ControlPlaneAddress.parse(args[0]),
                System.getenv("AGENTCORE_ADMIN_TOKEN")).block()) {
            lines(admin, args[1]).doOnNext(System.out::println).blockLast();
        }
    }
}
