package dev.agentcore.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code agentcore} command line: a reference control plane, an agent, and the tools around them. */
@Command(name = "agentcore", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Agent lifecycle reporting that survives build boundaries.",
        subcommands = {DemoCommand.class, ControlPlaneCommand.class, WorkspaceCommand.class, BuildCommand.class,
                AgentCommand.class, WaitCommand.class, StatusCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success (wait: the row is READY)",
                "  1  error (control plane unreachable or refusing, missing file, ...)",
                "  2  bad usage",
                "  3  wait: startup failed (START_ERROR)",
                "  4  wait: startup timed out (START_TIMEOUT)",
                "  5  wait: the agent is shutting down or off, or the build was stopped",
                "  6  wait: --timeout passed",
                "  7  demo: agentcore's row did not reach READY",
                "  8  agent: the instance identity was refused again and again",
                "  9  agent: another agent process took the workspace's row (one identity, two processes)"})
public final class AgentcoreCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return ExitCodes.OK;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (tests call this instead of main). */
    static int run(String... args) {
        CommandLine commandLine = new CommandLine(new AgentcoreCommand())
                .registerConverter(java.time.Duration.class, new DurationConverter())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler((error, command, parsed) -> {
                    command.getErr().println("agentcore: " + ErrorMessages.describe(error));
                    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
                        if (cause instanceof CommandFailure failure) {
                            return failure.exitCode;
                        }
                    }
                    return ExitCodes.ERROR;
                })
                .setParameterExceptionHandler((error, args1) -> {
                    CommandLine command = error.getCommandLine();
                    command.getErr().println("agentcore: " + ErrorMessages.oneLine(error.getMessage()));
                    command.getErr().println("Try '" + command.getCommandSpec().qualifiedName() + " --help' for more.");
                    return ExitCodes.USAGE;
                });
        return commandLine.execute(args);
    }
}
