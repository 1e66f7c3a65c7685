package dev.agentcore.examples;

import dev.agentcore.core.AgentcoreException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code agentcore} command line: a reference control plane, an agent, and the tools around them. */
@Command(name = "agentcore", mixinStandardHelpOptions = true, version = "agentcore 0.1.0-SNAPSHOT",
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
                "  7  demo: agentcore's row did not reach READY"})
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
                    Throwable cause = error;
                    while (cause.getCause() != null && !(cause instanceof CommandFailure)
                            && !(cause instanceof AgentcoreException)) {
                        cause = cause.getCause();
                    }
                    if (cause instanceof CommandFailure failure) {
                        command.getErr().println("agentcore: " + failure.getMessage());
                        return failure.exitCode;
                    }
                    if (cause instanceof AgentcoreException refusal) {
                        command.getErr().println("agentcore: the control plane refused: " + refusal);
                        return ExitCodes.ERROR;
                    }
                    command.getErr().println("agentcore: " + error);
                    return ExitCodes.ERROR;
                });
        return commandLine.execute(args);
    }
}
