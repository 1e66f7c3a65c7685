package dev.agentcore.cli;

import dev.agentcore.core.control.AgentRow;
import dev.agentcore.transport.AdminClient;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "build", mixinStandardHelpOptions = true,
        description = "Starts or stops a workspace's build: a new build is a new agent row at CREATED; "
                + "the previous row is retired.",
        subcommands = {BuildCommand.Start.class, BuildCommand.Stop.class})
final class BuildCommand {

    abstract static class BuildAction implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "The workspace.")
        String name;

        @Option(names = "--json", description = "Print the row as JSON.")
        boolean json;

        @Mixin
        AdminOptions admin;

        abstract AgentRow act(AdminClient client);

        @Override
        public Integer call() {
            try (AdminClient client = admin.connect()) {
                AgentRow row = act(client);
                System.out.println(json ? RowFormat.json(row) : RowFormat.text(row));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Starts a new build: a new row at CREATED.")
    static final class Start extends BuildAction {
        @Override
        AgentRow act(AdminClient client) {
            return client.startBuild(name).block(Duration.ofSeconds(30));
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stops the build: its row is retired.")
    static final class Stop extends BuildAction {
        @Override
        AgentRow act(AdminClient client) {
            return client.stopBuild(name).block(Duration.ofSeconds(30));
        }
    }
}
