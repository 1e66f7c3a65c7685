package dev.agentcore.cli;

import dev.agentcore.core.control.AgentRow;
import dev.agentcore.transport.AdminClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Shows the workspace's current row and its recent rows, with timestamps.")
final class StatusCommand implements Callable<Integer> {

    @Parameters(paramLabel = "NAME", description = "The workspace.")
    String name;

    @Option(names = "--limit", defaultValue = "10", description = "How many recent rows. Default: ${DEFAULT-VALUE}.")
    int limit;

    @Option(names = "--json", description = "Print JSON: {\"workspace\", \"current\", \"rows\"}.")
    boolean json;

    @Mixin
    AdminOptions admin;

    @Override
    public Integer call() {
        List<AgentRow> rows;
        try (AdminClient client = admin.connect()) {
            rows = client.rows(name, limit).collectList().block(Duration.ofSeconds(30));
        }
        AgentRow current = rows.isEmpty() ? null : rows.get(0);
        if (json) {
            System.out.println("{\"workspace\":" + RowFormat.quote(name) + ",\"current\":"
                    + (current == null ? "null" : RowFormat.json(current)) + ",\"rows\":" + RowFormat.json(rows) + "}");
        } else if (current == null) {
            System.out.println("workspace " + name + " has no builds yet");
        } else {
            System.out.println("workspace " + name + ": build " + current.buildNumber() + " is " + current.state()
                    + (current.active() ? "" : " (stopped)"));
            rows.forEach(row -> System.out.println("  " + RowFormat.text(row)));
        }
        return ExitCodes.OK;
    }
}
