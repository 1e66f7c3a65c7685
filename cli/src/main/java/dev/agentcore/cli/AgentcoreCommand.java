package dev.agentcore.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code agentcore} command line: a reference control plane, an agent, and the tools around them. */
@Command(name = "agentcore", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Agent lifecycle reporting that survives build boundaries.",
        subcommands = {DemoCommand.class, ControlPlaneCommand.class, WorkspaceCommand.class, BuildCommand.class,
                AdminCommand.class,
                AgentCommand.class, WaitCommand.class, StatusCommand.class, WatchCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success (wait: the row is READY; STARTING for a workspace whose startup does not block logins)",
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

    @Option(names = "--log-format", paramLabel = "text|json", defaultValue = "text", scope = ScopeType.INHERIT,
            description = "Log lines on stderr as text, or as one JSON object per line (Logback's JsonEncoder). "
                    + "Default: ${DEFAULT-VALUE}.")
    LogFormat logFormat;

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return ExitCodes.OK;
    }

    public static void main(String[] args) {
        DroppedErrors.logQuietly();
        System.exit(run(args));
    }

    /** The --log-format given, on the top command or a subcommand (the option is inherited). */
    private static LogFormat logFormatOf(CommandLine.ParseResult parsed) {
        LogFormat format = LogFormat.TEXT;
        for (CommandLine.ParseResult level = parsed; level != null; level = level.subcommand()) {
            if (level.hasMatchedOption("--log-format")) {
                format = level.matchedOptionValue("--log-format", LogFormat.TEXT);
            }
        }
        return format;
    }

    /** Runs the command line and returns its exit code (tests call this instead of main). */
    static int run(String... args) {
        CommandLine commandLine = new CommandLine(new AgentcoreCommand())
                .registerConverter(java.time.Duration.class, new DurationConverter())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionStrategy(parsed -> {
                    // Before the command runs, so that its first line is in the format asked for.
                    try {
                        logFormatOf(parsed).apply();
                    } catch (CommandFailure failure) {
                        parsed.commandSpec().commandLine().getErr().println("agentcore: " + failure.getMessage());
                        return failure.exitCode;
                    }
                    return new CommandLine.RunLast().execute(parsed);
                })
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
