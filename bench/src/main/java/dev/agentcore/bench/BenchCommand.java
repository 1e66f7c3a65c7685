package dev.agentcore.bench;

import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code agentcore bench}: the storm harness and the JMH micro-benchmarks. */
@Command(name = "agentcore bench", mixinStandardHelpOptions = true, subcommands = StormCommand.class,
        description = {"Benchmarks. Commands:",
                "  storm   the build-boundary storm against a control-plane process (see storm --help)",
                "  jmh     the JMH micro-benchmarks; arguments go to JMH (for example: jmh -prof gc; jmh -h)"})
public final class BenchCommand implements Runnable {

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("jmh")) {
            org.openjdk.jmh.Main.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
