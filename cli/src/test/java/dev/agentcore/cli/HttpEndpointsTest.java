package dev.agentcore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The control plane's HTTP port, over real HTTP, with a real agent and a real PostgreSQL that
 * goes away and comes back: /metrics, /healthz and /readyz as an operator's scraper and
 * orchestrator see them.
 */
class HttpEndpointsTest extends CommandLineProcesses {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String base;

    @Test
    void metricsHealthAndReadinessAnswerAndReadinessFollowsTheDatabase() throws Exception {
        Path pgData = Files.createDirectories(directory.resolve("pg"));
        EmbeddedPostgres postgres = EmbeddedPostgres.builder().setDataDirectory(pgData).setCleanDataDirectory(false).start();
        int pgPort = postgres.getPort();
        try {
            startControlPlane("--store", "r2dbc:postgresql://postgres@127.0.0.1:" + pgPort + "/postgres",
                    "--http-listen", "127.0.0.1:0");
            base = httpAddress();

            assertThat(get("/healthz")).isEqualTo("200 ok");
            assertThat(get("/readyz")).isEqualTo("200 ready");

            startAgent("dev");
            Result ready = admin("wait", "dev", "--timeout", "60s");
            assertThat(ready.exitCode()).as(ready.stdout() + ready.stderr()).isZero();
            String metrics = get("/metrics");
            assertThat(metrics).startsWith("200 ");
            assertThat(value(metrics, "agentcore_lifecycle_updates_total{outcome=\"applied\"}")).isGreaterThanOrEqualTo(2);
            assertThat(value(metrics, "agentcore_channels_open")).isEqualTo(1);
            assertThat(value(metrics, "agentcore_exchanges_total{outcome=\"granted\"}")).isGreaterThanOrEqualTo(1);
            assertThat(value(metrics, "agentcore_connections_open{stage=\"authenticated\"}")).isGreaterThanOrEqualTo(1);
            assertThat(value(metrics, "agentcore_store_commit_seconds_count{kind=\"compare_and_set\"}")).isGreaterThanOrEqualTo(1);
            assertThat(value(metrics, "agentcore_store_batch_size_count{kind=\"build\"}")).isEqualTo(1);
            assertThat(value(metrics, "agentcore_build_duration_seconds_count{outcome=\"READY\",replay=\"false\"}"))
                    .isEqualTo(1);
            assertThat(metrics).contains("jvm_memory_used_bytes").contains("process_uptime_seconds");

            postgres.close();
            assertThat(getUntil("/readyz", "503 not ready: the store does not answer")).isNotNull();
            assertThat(get("/healthz")).as("alive while the store is down").isEqualTo("200 ok");

            postgres = EmbeddedPostgres.builder().setDataDirectory(pgData).setCleanDataDirectory(false).setPort(pgPort).start();
            assertThat(getUntil("/readyz", "200 ready")).isNotNull();
        } finally {
            postgres.close();
        }
    }

    @Test
    void otherPathsAndMethodsAreRefusedInWords() throws Exception {
        startControlPlane("--store", "mem", "--http-listen", "127.0.0.1:0");
        base = httpAddress();

        assertThat(get("/nothing")).startsWith("404 not found: /nothing (try /, /metrics, /healthz, /readyz)");
        assertThat(get("/api/workspaces")).as("the dashboard's API without the admin token")
                .startsWith("401 the dashboard's API needs the admin token");
        HttpResponse<String> posted = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).isEqualTo(405);
        assertThat(posted.headers().firstValue("Allow")).hasValue("GET, HEAD");
        assertThat(get("/readyz")).as("the in-memory store is always reachable").isEqualTo("200 ready");
    }


    /** "STATUS BODY", the body stripped. */
    private String get(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body().strip();
    }

    /** Asks again every 100 ms until the answer starts with {@code expected}; fails after the test's timeout. */
    private String getUntil(String path, String expected) {
        return Flux.interval(Duration.ofMillis(100))
                .concatMap(tick -> Mono.fromCallable(() -> get(path)))
                .filter(answer -> answer.startsWith(expected))
                .blockFirst(TIMEOUT);
    }

    /** The value of one sample line of a Prometheus text exposition, e.g. {@code name{tag="v"} 2.0}. */
    private static double value(String exposition, String sample) {
        return exposition.lines().filter(line -> line.startsWith(sample + " "))
                .mapToDouble(line -> Double.parseDouble(line.substring(sample.length() + 1).strip()))
                .findFirst().orElseThrow(() -> new AssertionError(sample + " not in:\n" + exposition));
    }
}
