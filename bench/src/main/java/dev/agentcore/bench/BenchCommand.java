package dev.agentcore.bench;

import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import reactor.core.publisher.Hooks;

/** {@code agentcore bench}: the storm harness and the JMH micro-benchmarks. */
@Command(name = "agentcore bench", mixinStandardHelpOptions = true, subcommands = {StormCommand.class, DashboardCommand.class},
        description = {"Benchmarks. Commands:",
                "  storm      the build-boundary storm against a control-plane process (see storm --help)",
                "  dashboard  the dashboard's reads with many workspaces (see dashboard --help)",
                "  jmh        the JMH micro-benchmarks; arguments go to JMH (for example: jmh -prof gc; jmh -h)"})
public final class BenchCommand implements Runnable {

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("jmh")) {
            org.openjdk.jmh.Main.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        // This program owns its process, so it may set Reactor's global hook: connections the
        // harness closes on purpose (echo, agents at the end of a phase) drop late errors.
        Hooks.onErrorDropped(error -> {
            if (!(error instanceof java.nio.channels.ClosedChannelException
                    || error instanceof java.util.concurrent.CancellationException)) {
                System.err.println("storm: an error arrived after its stream had ended: " + error);
            }
        });
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
