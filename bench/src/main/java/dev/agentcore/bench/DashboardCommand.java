package dev.agentcore.bench;

import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.AdminClient;
import dev.agentcore.transport.ControlPlaneAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.publisher.Flux;

/**
 * The dashboard's reads with many workspaces: a control plane with --http-listen, N workspaces
 * each with a build, then each read the page makes, timed one after another over HTTP.
 */
@Command(name = "dashboard", mixinStandardHelpOptions = true,
        description = {"The dashboard's reads with many workspaces: starts the reference control plane with "
                + "--http-listen in a JVM of its own, creates N workspaces each with one build, then times each "
                + "read the dashboard's page makes (a page of the list, a filtered list, a workspace's rows, the "
                + "page itself), one request at a time, after a warm-up.",
                "Results on stdout as a table; progress on stderr."})
final class DashboardCommand implements Callable<Integer> {

    @Option(names = "--workspaces", paramLabel = "N", defaultValue = "10000", description = "Workspaces. Default: 10000.")
    int workspaces;

    @Option(names = "--store", paramLabel = "mem|h2", defaultValue = "h2",
            description = "The control plane's store. Default: h2 (the command line's default).")
    String store;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "50",
            description = "Timed requests per read, after as many for warm-up. Default: 50.")
    int requests;

    @Override
    public Integer call() throws Exception {
        if (workspaces < 1 || requests < 1 || !(store.equals("mem") || store.equals("h2"))) {
            System.err.println("dashboard: --workspaces and --requests must be positive, --store mem or h2");
            return 2;
        }
        Path dataDir = Files.createTempDirectory("agentcore-dashboard-");
        try (ControlPlaneProcess controlPlane = ControlPlaneProcess.start(store, dataDir.resolve("control-plane"),
                List.of("-Xmx4g"), List.of("--http-listen", "127.0.0.1:0"))) {
            Duration timeout = Duration.ofMinutes(5);
            List<String> names = Flux.range(0, workspaces).map(i -> String.format("ws-%05d", i)).collectList().block();
            try (AdminClient admin = AdminClient.connect(ControlPlaneAddress.tcp(controlPlane.host, controlPlane.port),
                    controlPlane.adminToken).block(timeout)) {
                System.err.println("dashboard: creating " + workspaces + " workspaces, each with a build");
                Flux.fromIterable(names)
                        .flatMap(name -> admin.createWorkspace(Workspace.named(name)).then(admin.startBuild(name)), 64)
                        .then().block(timeout);
            }
            String base = Flux.interval(Duration.ofMillis(50)).map(tick -> String.valueOf(controlPlane.httpAddress()))
                    .filter(address -> address.startsWith("http://")).blockFirst(Duration.ofSeconds(30));
            HttpClient http = HttpClient.newHttpClient();
            Map<String, String> reads = new LinkedHashMap<>();
            reads.put("the page (/)", "/");
            reads.put("list, first page of 50", "/api/workspaces?offset=0&limit=50");
            reads.put("list, middle page of 50", "/api/workspaces?offset=" + workspaces / 2 + "&limit=50");
            reads.put("list, filtered to one name", "/api/workspaces?filter=" + names.get(names.size() / 3) + "&limit=50");
            reads.put("a workspace's 5 recent rows", "/api/rows?workspace=" + names.get(names.size() / 3) + "&limit=5");
            System.out.printf("agentcore dashboard reads: %d workspaces, store %s, %d timed requests each (one at a time)%n",
                    workspaces, store, requests);
            System.out.printf("%-30s %10s %10s %10s %12s%n", "read", "p50 ms", "p99 ms", "max ms", "bytes");
            for (Map.Entry<String, String> read : reads.entrySet()) {
                System.err.println("dashboard: timing " + read.getValue());
                HttpRequest request = HttpRequest.newBuilder(URI.create(base + read.getValue()))
                        .header("Authorization", "Bearer " + controlPlane.adminToken).timeout(Duration.ofSeconds(30)).build();
                long[] nanos = new long[requests];
                int bytes = 0;
                for (int i = -requests; i < requests; i++) {
                    long started = System.nanoTime();
                    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                    long took = System.nanoTime() - started;
                    if (response.statusCode() != 200) {
                        System.err.println("dashboard: " + read.getValue() + " answered " + response.statusCode() + ": "
                                + response.body());
                        return 1;
                    }
                    if (i >= 0) {
                        nanos[i] = took;
                        bytes = response.body().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                    }
                }
                Arrays.sort(nanos);
                System.out.printf("%-30s %10.2f %10.2f %10.2f %12d%n", read.getKey(), nanos[requests / 2] / 1e6,
                        nanos[Math.min(requests - 1, (int) Math.ceil(requests * 0.99) - 1)] / 1e6,
                        nanos[requests - 1] / 1e6, bytes);
            }
            return 0;
        } finally {
            StormCommand.deleteRecursively(dataDir);
        }
    }
}
