package dev.agentcore.cli;

import dev.agentcore.core.control.AgentRow;
import dev.agentcore.transport.AdminClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import reactor.core.publisher.Flux;

@Command(name = "watch", mixinStandardHelpOptions = true,
        description = {"Prints row changes as they happen, one line each, until interrupted (Ctrl-C): the workspace's "
                + "latest row then every change, or, without NAME, every change of every workspace from now on."})
final class WatchCommand implements Callable<Integer> {

    @Parameters(paramLabel = "NAME", arity = "0..1", description = "The workspace; all of them without it.")
    String name;

    @Option(names = "--json", description = "One JSON object per line, as `status --json` prints a row.")
    boolean json;

    @Mixin
    AdminOptions admin;

    @Override
    public Integer call() {
        try (AdminClient client = admin.connect()) {
            Flux<AgentRow> rows = name == null ? client.changes() : client.watch(name);
            rows.doOnNext(row -> {
                System.out.println(json ? RowFormat.json(row) : row.workspace() + "  " + RowFormat.text(row));
                System.out.flush();
            }).blockLast();
            return ExitCodes.OK;
        }
    }
}
