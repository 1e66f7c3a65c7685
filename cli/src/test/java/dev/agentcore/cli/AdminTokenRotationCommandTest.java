package dev.agentcore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * {@code admin rotate-token} against a real control plane process: what the old token opened
 * ends (a {@code watch} process, the dashboard's event stream), and only the new token opens.
 */
class AdminTokenRotationCommandTest extends CommandLineProcesses {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void rotatingTheAdminTokenEndsTheWatchAndTheDashboardStreamTheOldOneOpened() throws Exception {
        startControlPlane("--store", "mem", "--http-listen", "127.0.0.1:0");
        String base = httpAddress();
        Path tokenFile = directory.resolve("data/admin.token");
        String old = Files.readString(tokenFile).strip();
        assertThat(admin("workspace", "create", "dev").exitCode()).isZero();
        assertThat(admin("build", "start", "dev").exitCode()).isZero();
        Process watch = start("watch", "watch", "dev", "--control-plane", "127.0.0.1:" + port,
                "--admin-token-file", "data/admin.token");
        // The watch prints the workspace's current row once its stream is open.
        Flux.interval(Duration.ofMillis(50)).filter(tick -> readOrEmpty(directory.resolve("watch.out")).contains("dev"))
                .blockFirst(TIMEOUT);
        HttpResponse<Stream<String>> events = http.send(HttpRequest.newBuilder(URI.create(base + "/api/events"))
                .header("Authorization", "Bearer " + old).build(), HttpResponse.BodyHandlers.ofLines());
        assertThat(events.statusCode()).isEqualTo(200);
        Iterator<String> lines = events.body().iterator();
        assertThat(lines.next()).isEqualTo(": agentcore row changes");
        CompletableFuture<Void> eventsEnded = CompletableFuture.runAsync(() -> lines.forEachRemaining(line -> { }));

        Result rotated = admin("admin", "rotate-token");

        assertThat(rotated.exitCode()).as(rotated.stderr()).isZero();
        String renewed = Files.readString(tokenFile).strip();
        assertThat(renewed).isNotEqualTo(old);
        assertThat(rotated.stdout()).contains(renewed);
        eventsEnded.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertThat(watch.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("the watch ended").isTrue();
        assertThat(watch.exitValue()).isNotZero();
        assertThat(readOrEmpty(directory.resolve("watch.err"))).startsWith("agentcore: ").contains("admin token");
        assertThat(status(base, old)).isEqualTo(401);
        assertThat(status(base, renewed)).isEqualTo(200);
        assertThat(admin("status", "dev").exitCode()).as("the new token in the file opens").isZero();
    }

    private int status(String base, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/api/workspaces"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
