package dev.agentcore.bench;

import dev.agentcore.store.WriteStats;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reference control plane ({@code agentcore control-plane}) in a JVM of its own, started from
 * this JVM's class path; with what the harness measures of it: live heap after a full GC
 * (through {@code jcmd}) and CPU time.
 */
final class ControlPlaneProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("listening on tcp://([^:]+):(\\d+)");
    private static final Pattern SERVING_HTTP = Pattern.compile("serving metrics, health and the dashboard on (http://\\S+)");
    /** What starts each line that {@code control-plane --bench-write-stats} prints (ControlPlaneCommand's). */
    private static final String WRITE_STATS_PREFIX = "agentcore store writes: ";
    private static final Pattern HISTOGRAM_TOTAL = Pattern.compile("^Total\\s+(\\d+)\\s+(\\d+)\\s*$");

    private final Process process;
    final String host;
    final int port;
    final String adminToken;

    private final AtomicReference<WriteStats> writes;
    private final AtomicReference<String> httpAddress;

    private ControlPlaneProcess(Process process, String host, int port, String adminToken,
            AtomicReference<WriteStats> writes, AtomicReference<String> httpAddress) {
        this.writes = writes;
        this.httpAddress = httpAddress;
        this.process = process;
        this.host = host;
        this.port = port;
        this.adminToken = adminToken;
    }

    /** Starts it with {@code store} (mem, h2 or an R2DBC URL) and waits until it listens. */
    static ControlPlaneProcess start(String store, Path dataDir, List<String> jvmOptions) throws IOException {
        return start(store, dataDir, jvmOptions, List.of());
    }

    /** As {@link #start(String, Path, List)}, with more control-plane options (for example --http-listen). */
    static ControlPlaneProcess start(String store, Path dataDir, List<String> jvmOptions, List<String> options)
            throws IOException {
        Files.createDirectories(dataDir);
        Path log = dataDir.resolve("control-plane.log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.agentcore.cli.AgentcoreCommand",
                "control-plane", "--listen", "127.0.0.1:0", "--store", store, "--data-dir", dataDir.toString(),
                // The storm measures the control plane, not its abuse limits: its thousands of agents all
                // come from 127.0.0.1 and reconnect at once, as no real fleet behind one address would.
                "--update-rate", "1000000", "--update-burst", "1000000",
                "--max-connections", "19000", "--max-unauthenticated", "19000", "--max-unauthenticated-per-address", "19000",
                "--bench-echo", "--bench-write-stats"));
        command.addAll(options);
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
        builder.environment().putIfAbsent("AGENTCORE_LOG_LEVEL", "WARN");
        Process process = builder.start();
        BufferedReader stdout = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = stdout.readLine()) != null) {
            Matcher listening = LISTENING.matcher(line);
            if (listening.find()) {
                String token = Files.readString(dataDir.resolve("admin.token")).strip();
                AtomicReference<WriteStats> writes = new AtomicReference<>(new WriteStats(0, 0, new long[0], 0, 0));
                AtomicReference<String> http = new AtomicReference<>();
                Thread drain = new Thread(() -> {
                    try {
                        stdout.lines().forEach(printed -> {
                            if (printed.startsWith(WRITE_STATS_PREFIX)) {
                                writes.set(WriteStats.parse(printed.substring(WRITE_STATS_PREFIX.length())));
                            }
                            Matcher serving = SERVING_HTTP.matcher(printed);
                            if (serving.find()) {
                                http.set(serving.group(1));
                            }
                        });
                    } catch (UncheckedIOException closed) {
                        // The process was stopped (close()) and its output closed under this reader: nothing more to read.
                    }
                }, "control-plane-stdout");
                drain.setDaemon(true);
                drain.start();
                return new ControlPlaneProcess(process, listening.group(1), Integer.parseInt(listening.group(2)),
                        token, writes, http);
            }
        }
        process.destroyForcibly();
        throw new IOException("the control plane exited before listening; its log: " + log + "\n"
                + tail(log));
    }

    /** The HTTP port's address (http://HOST:PORT) once the process has printed it; null before, or without --http-listen. */
    String httpAddress() {
        return httpAddress.get();
    }

    /** The store writer's totals as the process last printed them (every 200 ms; none in memory). */
    WriteStats writeStats() {
        return writes.get();
    }

    long pid() {
        return process.pid();
    }

    /** CPU time (user plus system) the process has used so far. */
    Duration cpu() {
        return process.toHandle().info().totalCpuDuration().orElse(Duration.ZERO);
    }

    /**
     * Bytes of live objects on the heap: {@code jcmd GC.class_histogram} runs a full GC first and
     * then counts what survived. -1 if jcmd is missing or fails.
     */
    long liveHeapBytes() {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            return -1;
        }
        try {
            Process histogram = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.class_histogram")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            long total = -1;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(histogram.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    Matcher matcher = HISTOGRAM_TOTAL.matcher(line.strip());
                    if (matcher.matches()) {
                        total = Long.parseLong(matcher.group(2));
                    }
                }
            }
            return histogram.waitFor(120, TimeUnit.SECONDS) && histogram.exitValue() == 0 ? total : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(could not read " + log + ": " + e + ")";
        }
    }

    /** SIGTERM, then SIGKILL if it has not exited within 20 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
