package dev.agentcore.cli;

import dev.agentcore.core.Script;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.AdminClient;
import dev.agentcore.transport.WireJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "workspace", mixinStandardHelpOptions = true, description = "Manages workspaces.",
        subcommands = {WorkspaceCommand.Create.class, WorkspaceCommand.ListAll.class, WorkspaceCommand.Update.class,
                WorkspaceCommand.Delete.class, WorkspaceCommand.RotateIdentity.class})
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

        @Mixin
        IdentityOutput output;

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
            output.show(name, identity, "created");
            return ExitCodes.OK;
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
            description = {"Changes the scripts of a workspace's next builds. The build running now keeps the scripts "
                    + "it started with; an agent that survives into the next build (--on-agent-change auto, the "
                    + "default) runs the new startup scripts if they differ and replays its state if they do not. A "
                    + "phase not named keeps its scripts."})
    static final class Update implements Callable<Integer> {

        @Parameters(paramLabel = "NAME", description = "The workspace.")
        String name;

        @Option(names = "--startup-script", paramLabel = "CMD",
                description = "Run by `sh -c` when the agent starts; repeatable; replaces every startup script.")
        List<String> startupScripts = new ArrayList<>();

        @Option(names = "--no-startup-scripts", description = "Run no startup script.")
        boolean noStartupScripts;

        @Option(names = "--startup-timeout", paramLabel = "DURATION", defaultValue = "5m",
                description = "How long each new startup script may run (500ms, 30s, 5m, 1h). Default: ${DEFAULT-VALUE}.")
        Duration startupTimeout;

        @Option(names = "--blocking", negatable = true, description = "Whether clients (ssh, IDE) wait for the new "
                + "startup scripts to finish before they log in. Default: as the workspace's startup does now.")
        Boolean blocking;

        @Option(names = "--shutdown-script", paramLabel = "CMD",
                description = "Run by `sh -c` when the agent stops; repeatable; replaces every shutdown script.")
        List<String> shutdownScripts = new ArrayList<>();

        @Option(names = "--no-shutdown-scripts", description = "Run no shutdown script.")
        boolean noShutdownScripts;

        @Option(names = "--shutdown-timeout", paramLabel = "DURATION", defaultValue = "1m",
                description = "How long each new shutdown script may run. Default: ${DEFAULT-VALUE}.")
        Duration shutdownTimeout;

        @Option(names = "--json", description = "Print the workspace as updated: a WorkspaceDescription message in "
                + "the schema's JSON (workspace, agent_name, startup_scripts, shutdown_scripts, blocking).")
        boolean json;

        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() {
            if (noStartupScripts && !startupScripts.isEmpty() || noShutdownScripts && !shutdownScripts.isEmpty()) {
                throw new CommandFailure("give a phase's scripts or --no-<phase>-scripts, not both", ExitCodes.USAGE);
            }
            boolean startup = noStartupScripts || !startupScripts.isEmpty();
            boolean shutdown = noShutdownScripts || !shutdownScripts.isEmpty();
            if (!startup && !shutdown) {
                throw new CommandFailure("nothing to update: give --startup-script, --shutdown-script, "
                        + "--no-startup-scripts or --no-shutdown-scripts", ExitCodes.USAGE);
            }
            if (blocking != null && !startup) {
                throw new CommandFailure("--blocking applies to new startup scripts: give --startup-script too",
                        ExitCodes.USAGE);
            }
            Workspace updated;
            try (AdminClient client = admin.connect()) {
                boolean blocks = blocking != null ? blocking
                        : !startupScripts.isEmpty() && blocking(client.workspace(name).block(Duration.ofSeconds(30)));
                Optional<List<Script>> newStartup;
                Optional<List<Script>> newShutdown;
                try {
                    newStartup = startup ? Optional.of(startupScripts.stream()
                            .map(cmd -> new Script(cmd, startupTimeout, blocks)).toList()) : Optional.empty();
                    newShutdown = shutdown ? Optional.of(shutdownScripts.stream()
                            .map(cmd -> new Script(cmd, shutdownTimeout, false)).toList()) : Optional.empty();
                } catch (IllegalArgumentException e) {
                    throw new CommandFailure(e.getMessage(), ExitCodes.USAGE);
                }
                updated = client.updateScripts(name, newStartup, newShutdown).block(Duration.ofSeconds(30));
            }
            if (json) {
                System.out.println(json(updated));
            } else {
                System.out.println("workspace " + name + " updated: its next builds run "
                        + updated.startupScripts().size() + " startup and " + updated.shutdownScripts().size()
                        + " shutdown script(s)" + (blocking(updated) ? ", startup blocks logins" : "")
                        + "; a build running now keeps its scripts");
            }
            return ExitCodes.OK;
        }
    }

    /** Where a new identity (a secret, shown only this once) goes: stdout, as text or JSON, and a file if asked (mode 600). */
    static final class IdentityOutput {

        @Option(names = "--identity-file", paramLabel = "FILE", description = "Also write the identity to FILE (mode 600).")
        Path identityFile;

        @Option(names = "--json", description = "Print JSON: {\"workspace\", \"instance_identity\"}.")
        boolean json;

        void show(String name, String identity, String what) throws IOException {
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
                System.out.println("workspace " + name + " " + what);
                System.out.println("instance identity: " + identity);
                if (identityFile != null) {
                    System.out.println("written to " + identityFile + " (mode 600)");
                }
            }
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = {"Deletes a workspace: its active row is retired (its agent's channels end with FENCED), its "
                    + "identity and every credential handed out for it are refused from then on, and its connections "
                    + "to the control plane are closed. Its rows stay, as history."})
    static final class Delete implements Callable<Integer> {

        @Parameters(paramLabel = "NAME", description = "The workspace.")
        String name;

        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() {
            try (AdminClient client = admin.connect()) {
                client.deleteWorkspace(name).block(Duration.ofSeconds(30));
            }
            System.out.println("workspace " + name + " deleted");
            return ExitCodes.OK;
        }
    }

    @Command(name = "rotate-identity", mixinStandardHelpOptions = true,
            description = {"Gives a workspace a new instance identity, shown once: the old one is refused from then on, "
                    + "every credential handed out with it too, and the workspace's connections are closed (its agent "
                    + "needs the new identity to come back)."})
    static final class RotateIdentity implements Callable<Integer> {

        @Parameters(paramLabel = "NAME", description = "The workspace.")
        String name;

        @Mixin
        IdentityOutput output;

        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() throws IOException {
            String identity;
            try (AdminClient client = admin.connect()) {
                identity = client.rotateIdentity(name).block(Duration.ofSeconds(30));
            }
            output.show(name, identity, "has a new identity");
            return ExitCodes.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists the workspaces by name: agent name, scripts, whether startup blocks logins.")
    static final class ListAll implements Callable<Integer> {

        @Option(names = "--json", description = "Print a JSON array of WorkspaceDescription messages (the schema's "
                + "JSON: workspace, agent_name, startup_scripts, shutdown_scripts, blocking).")
        boolean json;

        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() {
            try (AdminClient client = admin.connect()) {
                List<Workspace> all = client.workspaces().collectList().block(Duration.ofSeconds(60));
                if (json) {
                    System.out.println(all.stream().map(WorkspaceCommand::json)
                            .collect(java.util.stream.Collectors.joining(",", "[", "]")));
                } else if (all.isEmpty()) {
                    System.out.println("no workspaces");
                } else {
                    all.forEach(workspace -> System.out.println(text(workspace)));
                }
                return ExitCodes.OK;
            }
        }
    }

    /** Whether clients wait for the agent's startup before they log in: any startup script says so. */
    static boolean blocking(Workspace workspace) {
        return workspace.startupScripts().stream().anyMatch(Script::blocksLogin);
    }

    static String text(Workspace workspace) {
        return String.format("%-24s agent %-24s %d startup, %d shutdown script(s)%s", workspace.name(),
                workspace.agentName(), workspace.startupScripts().size(), workspace.shutdownScripts().size(),
                blocking(workspace) ? ", startup blocks logins" : "");
    }

    /** The workspace as the schema's {@code WorkspaceDescription} message, in JSON (WireJson). */
    static String json(Workspace workspace) {
        return WireJson.workspace(workspace);
    }
}
