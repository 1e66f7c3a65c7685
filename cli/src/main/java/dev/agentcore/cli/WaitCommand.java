package dev.agentcore.cli;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.transport.AdminClient;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import reactor.core.publisher.Mono;

@Command(name = "wait", mixinStandardHelpOptions = true,
        description = {"Waits as a client (an ssh front end, an IDE) would before it logs in. For a workspace whose "
                + "startup blocks logins (workspace create --blocking), until its current row is READY; for any "
                + "other, until its agent has connected and begun startup (STARTING), which goes on after wait "
                + "returns. Follows new builds. Shows progress on stderr.",
                "Exit: 0 READY (or, not blocking, STARTING), 3 START_ERROR, 4 START_TIMEOUT, 5 shutting down, off or "
                        + "stopped, 6 --timeout passed."})
final class WaitCommand implements Callable<Integer> {

    @Parameters(paramLabel = "NAME", description = "The workspace.")
    String name;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m",
            description = "Give up after this long (exit 6). Default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Mixin
    AdminOptions admin;

    @Override
    public Integer call() {
        PrintStream progress = System.err;
        boolean terminal = System.console() != null;
        long start = System.nanoTime();
        AtomicReference<AgentRow> current = new AtomicReference<>();
        try (AdminClient client = admin.connect()) {
            boolean blocking = WorkspaceCommand.blocking(client.workspace(name).block(Duration.ofSeconds(30)));
            Integer code = client.watch(name)
                    .filter(row -> current.get() == null || row.buildNumber() >= current.get().buildNumber())
                    .concatMap(row -> {
                        AgentRow previous = current.getAndSet(row);
                        if (previous == null || previous.buildNumber() != row.buildNumber()
                                || previous.state() != row.state()) {
                            String line = "build " + row.buildNumber() + " " + row.state() + " after "
                                    + RowFormat.human(Duration.ofNanos(System.nanoTime() - start));
                            progress.print(terminal ? "\r\033[K" + line : line + "\n");
                        }
                        if (!row.active()) {
                            // Retired: a new build follows (it is already stored), or the build was stopped.
                            return client.rows(name, 1).next().flatMap(latest -> latest.agentId().equals(row.agentId())
                                    ? Mono.just(ExitCodes.SHUTTING_DOWN) : Mono.empty());
                        }
                        return Mono.justOrEmpty(outcome(row.state(), blocking));
                    })
                    .next()
                    .timeout(timeout)
                    .onErrorResume(TimeoutException.class, e -> Mono.just(ExitCodes.WAIT_TIMEOUT))
                    .block();
            if (terminal) {
                progress.println();
            }
            AgentRow last = current.get();
            System.out.println(switch (code) {
                case ExitCodes.OK -> last.state() == LifecycleState.READY
                        ? name + ": build " + last.buildNumber() + " is READY"
                        : name + ": build " + last.buildNumber() + " is " + last.state() + "; its startup does not "
                                + "block logins, so clients may go ahead while it goes on";
                case ExitCodes.WAIT_TIMEOUT -> name + ": still " + (last == null ? "without a build" : last.state())
                        + " after " + timeout;
                default -> name + ": build " + last.buildNumber() + " is " + last.state()
                        + (last.active() ? "" : " (stopped)");
            });
            return code;
        }
    }

    /** The exit code this state settles, or null to keep waiting. A non-blocking startup settles at STARTING. */
    private static Integer outcome(LifecycleState state, boolean blocking) {
        return switch (state) {
            case READY -> ExitCodes.OK;
            case STARTING -> blocking ? null : ExitCodes.OK;
            case START_ERROR -> ExitCodes.START_ERROR;
            case START_TIMEOUT -> ExitCodes.START_TIMEOUT;
            case SHUTTING_DOWN, OFF, SHUTDOWN_TIMEOUT, SHUTDOWN_ERROR -> ExitCodes.SHUTTING_DOWN;
            case CREATED -> null;
        };
    }
}
