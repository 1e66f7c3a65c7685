package dev.agentcore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code agentcore} command line as separate JVM processes in a temporary directory, for
 * tests that run it as people do: a control plane, agents, admin commands.
 */
abstract class CommandLineProcesses {

    static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path directory;
    private final List<Process> processes = new ArrayList<>();
    int port;
    Process controlPlane;
    /** What the control plane started by {@link #startControlPlane} prints after its listening line. */
    BufferedReader controlPlaneOutput;

    record Result(int exitCode, String stdout, String stderr) {
    }

    @AfterEach
    void stopEverything() {
        // Descendants first: a launcher such as faketime forks the JVM and waits for it, and killing
        // only the launcher left that JVM running after the test (one agent process per CI run).
        for (Process process : processes) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    /**
     * SIGTERM to the JVM a launcher started (faketime, for one, forks it and waits), or to the
     * process itself if it started none: the launcher then exits with its JVM.
     */
    static void terminate(Process process) {
        List<ProcessHandle> started = process.children().toList();
        if (started.isEmpty()) {
            process.destroy();
        } else {
            started.forEach(ProcessHandle::destroy);
        }
    }

    /** {@code agentcore args...} in a JVM of its own, started through {@code launcher} (for example a shell setting a ulimit). */
    ProcessBuilder command(List<String> launcher, String... args) {
        List<String> command = new ArrayList<>(launcher);
        command.addAll(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-cp", System.getProperty("java.class.path"), AgentcoreCommand.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).directory(directory.toFile());
    }

    ProcessBuilder command(String... args) {
        return command(List.of(), args);
    }

    Process start(String name, String... args) throws IOException {
        return start(name, List.of(), args);
    }

    /** Starts {@code agentcore args...} with these environment variables added, output to NAME.out and NAME.err. */
    Process start(String name, Map<String, String> environment, String... args) throws IOException {
        ProcessBuilder builder = command(args)
                .redirectOutput(directory.resolve(name + ".out").toFile())
                .redirectError(directory.resolve(name + ".err").toFile());
        builder.environment().putAll(environment);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    /** Starts {@code agentcore args...} through {@code launcher} (for example faketime), output to NAME.out and NAME.err. */
    Process start(String name, List<String> launcher, String... args) throws IOException {
        Process process = command(launcher, args)
                .redirectOutput(directory.resolve(name + ".out").toFile())
                .redirectError(directory.resolve(name + ".err").toFile())
                .start();
        processes.add(process);
        return process;
    }

    Result run(String... args) throws IOException, InterruptedException {
        return run(Map.of(), args);
    }

    /** Runs {@code agentcore args...} with these environment variables added. */
    Result run(Map<String, String> environment, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(directory, "run", ".out");
        Path err = Files.createTempFile(directory, "run", ".err");
        ProcessBuilder builder = command(args);
        builder.environment().putAll(environment);
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        processes.add(process);
        assertThat(process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("agentcore %s finished", List.of(args))
                .isTrue();
        return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** Runs an admin command against the test's control plane. */
    Result admin(String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--control-plane", "127.0.0.1:" + port, "--admin-token-file", "data/admin.token"));
        return run(all.toArray(String[]::new));
    }

    void startControlPlane(String... storeOptions) throws IOException {
        startControlPlane(List.of(), storeOptions);
    }

    /** Starts the control plane on the test's port (a free one the first time) and waits until it listens. */
    void startControlPlane(List<String> launcher, String... options) throws IOException {
        List<String> args = new ArrayList<>(List.of("control-plane", "--listen", "127.0.0.1:" + port, "--data-dir", "data"));
        args.addAll(List.of(options));
        controlPlane = command(launcher, args.toArray(String[]::new))
                .redirectError(directory.resolve("control-plane.err").toFile())
                .start();
        processes.add(controlPlane);
        BufferedReader stdout = new BufferedReader(new InputStreamReader(controlPlane.getInputStream(),
                StandardCharsets.UTF_8));
        controlPlaneOutput = stdout;
        String line = stdout.readLine();
        // The JVM may speak first (a flight recording started, say): skip to the control plane's own line.
        for (int skipped = 0; line != null && !line.startsWith("agentcore control plane listening on") && skipped < 10;
                skipped++) {
            line = stdout.readLine();
        }
        assertThat(line).as("the control plane says where it listens").startsWith("agentcore control plane listening on");
        port = Integer.parseInt(line.substring(line.lastIndexOf(':') + 1));
        assertThat(Files.getPosixFilePermissions(directory.resolve("data/admin.token")))
                .extracting(Object::toString).containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
    }

    /** The address the control plane printed for its HTTP port (--http-listen), on the line after its listening line. */
    String httpAddress() throws IOException {
        String line = controlPlaneOutput.readLine();
        Matcher serving = Pattern.compile("serving metrics, health and the dashboard on (http://\\S+)")
                .matcher(String.valueOf(line));
        assertThat(serving.find()).as("the control plane says where it serves HTTP: %s", line).isTrue();
        return serving.group(1);
    }

    /** The first address a control plane started with {@link #start} printed to NAME.out ({@code tcp://HOST:PORT}, ...). */
    String listeningAddress(String outputFile) {
        Pattern listening = Pattern.compile("listening on (\\S+)");
        Path output = directory.resolve(outputFile);
        return reactor.core.publisher.Flux.interval(Duration.ofMillis(50))
                .map(tick -> listening.matcher(readOrEmpty(output)))
                .filter(Matcher::find)
                .map(matcher -> matcher.group(1))
                .blockFirst(TIMEOUT);
    }

    static String readOrEmpty(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Creates the workspace (its startup blocking logins, so that {@code wait} waits for READY) and
     * its first build, and starts an agent process for it.
     */
    Process startAgent(String workspace, String... startupOptions) throws IOException, InterruptedException {
        List<String> create = new ArrayList<>(List.of("workspace", "create", workspace, "--identity-file",
                workspace + ".identity"));
        create.addAll(List.of(startupOptions));
        if (!create.contains("--blocking")) {
            create.add("--blocking");
        }
        assertThat(admin(create.toArray(String[]::new)).exitCode()).isZero();
        assertThat(admin("build", "start", workspace).exitCode()).isZero();
        return start("agent-" + workspace, "agent", "--control-plane", "127.0.0.1:" + port,
                "--identity-file", workspace + ".identity");
    }

    static String field(String json, String name) {
        Matcher matcher = Pattern.compile("\"" + name + "\":(\"([^\"]*)\"|[^,}]+)").matcher(json);
        assertThat(matcher.find()).as("%s in %s", name, json).isTrue();
        return matcher.group(2) != null ? matcher.group(2) : matcher.group(1);
    }
}
