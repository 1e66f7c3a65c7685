package dev.agentcore.cli;

import dev.agentcore.core.Script;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.AdminClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "workspace", mixinStandardHelpOptions = true, description = "Manages workspaces.",
        subcommands = WorkspaceCommand.Create.class)
final class WorkspaceCommand {

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Creates a workspace and prints its instance identity (a secret, shown once).")
    static final class Create implements Callable<Integer> {

        @Parameters(paramLabel = "NAME", description = "1 to 64 letters, digits, '.', '_' or '-'.")
        String name;

        @Option(names = "--startup-script", paramLabel = "CMD", description = "Run by `sh -c` when the agent starts; repeatable.")
        List<String> startupScripts = new ArrayList<>();

        @Option(names = "--startup-timeout", paramLabel = "DURATION", defaultValue = "5m",
                description = "How long each startup script may run (500ms, 30s, 5m, 1h). Default: ${DEFAULT-VALUE}.")
        Duration startupTimeout;

        @Option(names = "--shutdown-script", paramLabel = "CMD", description = "Run by `sh -c` when the agent stops; repeatable.")
        List<String> shutdownScripts = new ArrayList<>();

        @Option(names = "--shutdown-timeout", paramLabel = "DURATION", defaultValue = "1m",
                description = "How long each shutdown script may run. Default: ${DEFAULT-VALUE}.")
        Duration shutdownTimeout;

        @Option(names = "--blocking", description = "Clients (ssh, IDE) wait for startup to finish before they log in.")
        boolean blocking;

        @Option(names = "--identity-file", paramLabel = "FILE", description = "Also write the identity to FILE (mode 600).")
        Path identityFile;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() throws Exception {
            Workspace workspace;
            try {
                workspace = new Workspace(name, name + "-agent",
                        startupScripts.stream().map(cmd -> new Script(cmd, startupTimeout, blocking)).toList(),
                        shutdownScripts.stream().map(cmd -> new Script(cmd, shutdownTimeout, false)).toList());
            } catch (IllegalArgumentException e) {
                throw new CommandFailure(e.getMessage(), ExitCodes.USAGE);
            }
            String identity;
            try (AdminClient client = admin.connect()) {
                identity = client.createWorkspace(workspace).block(Duration.ofSeconds(30));
            }
            if (identityFile != null) {
                Files.deleteIfExists(identityFile);
                Files.createFile(identityFile,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(identityFile, identity + "\n", StandardOpenOption.TRUNCATE_EXISTING);
            }
            if (json) {
                System.out.println("{\"workspace\":" + RowFormat.quote(name) + ",\"instance_identity\":"
                        + RowFormat.quote(identity) + "}");
            } else {
                System.out.println("workspace " + name + " created");
                System.out.println("instance identity: " + identity);
                if (identityFile != null) {
                    System.out.println("written to " + identityFile + " (mode 600)");
                }
            }
            return ExitCodes.OK;
        }
    }
}
