package dev.agentcore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two control-plane processes on one PostgreSQL act as one for agents and admins: one admin
 * token for both, admin commands and agents listing both addresses, the replica they use killed
 * with SIGKILL.
 */
class ReplicasTest extends CommandLineProcesses {

    private String storeUrl;

    /** Starts a control plane on the shared store with a data dir of its own; returns its address. */
    private Process replica(String name) throws Exception {
        return start(name, "control-plane", "--listen", "127.0.0.1:0", "--data-dir", "data-" + name, "--store", storeUrl);
    }

    /** An admin command through {@code addresses}, with the admin token in {@code tokenFile}. */
    private Result adminThrough(String addresses, String tokenFile, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--control-plane", addresses, "--admin-token-file", tokenFile));
        return run(all.toArray(String[]::new));
    }

    private static Result succeeds(Result result) {
        assertThat(result.exitCode()).as("%s%s", result.stdout(), result.stderr()).isZero();
        return result;
    }

    private static void signal(Process process, String signal) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor()).isZero();
    }

    @Test
    void adminsAndAgentsGoOnThroughTheOtherReplicaWhenTheOneTheyUseIsKilled() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            storeUrl = "r2dbc:postgresql://postgres@127.0.0.1:" + postgres.getPort() + "/postgres";
            Process first = replica("a");
            String a = listeningAddress("a.out");
            Process second = replica("b");
            String b = listeningAddress("b.out");
            String both = a + "," + b;
            String token = "data-a/admin.token";

            // One admin token for the deployment: the first replica's, which the second took from the store.
            assertThat(directory.resolve("data-b/admin.token")).doesNotExist();
            assertThat(Files.readString(directory.resolve("b.err"))).contains("admin token: the deployment's");
            succeeds(adminThrough(a, token, "workspace", "list"));
            succeeds(adminThrough(b, token, "workspace", "list"));

            succeeds(adminThrough(both, token, "workspace", "create", "dev", "--identity-file", "dev.identity",
                    "--startup-script", "sleep 0.2", "--blocking"));
            succeeds(adminThrough(both, token, "build", "start", "dev"));
            Process agent = start("agent", "agent", "--control-plane", both, "--identity-file", "dev.identity");
            succeeds(adminThrough(both, token, "wait", "dev", "--timeout", "60s"));

            // A build the frozen agent has not seen, and a `wait` for it through the first replica.
            signal(agent, "STOP");
            succeeds(adminThrough(both, token, "build", "start", "dev"));
            Process waiting = start("wait", "wait", "dev", "--timeout", "90s", "--control-plane", both,
                    "--admin-token-file", token);
            awaitFile("wait.err", "build 2 CREATED");

            first.destroyForcibly(); // SIGKILL
            assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
            signal(agent, "CONT");

            assertThat(waiting.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(waiting.exitValue()).as(readOrEmpty(directory.resolve("wait.err"))).isZero();
            assertThat(readOrEmpty(directory.resolve("wait.out"))).contains("dev: build 2 is READY");
            assertThat(readOrEmpty(directory.resolve("wait.err")).lines().filter(line -> line.contains("lost the control plane")))
                    .singleElement().satisfies(line -> assertThat(line).contains(a.substring(a.indexOf("//") + 2))
                            .contains("going on through").contains(b.substring(b.indexOf("//") + 2)));

            Result build = adminThrough(both, token, "build", "start", "dev", "--json");
            assertThat(build.exitCode()).as(build.stderr()).isZero();
            assertThat(field(build.stdout(), "build_number")).isEqualTo("3");
            Result waited = adminThrough(both, token, "wait", "dev", "--timeout", "60s");
            assertThat(waited.exitCode()).as(waited.stderr()).isZero();
            assertThat(waited.stdout()).contains("dev: build 3 is READY");

            // A new admin token, through the surviving replica, for both.
            String oldToken = Files.readString(directory.resolve(token)).strip();
            Files.writeString(directory.resolve("old.token"), oldToken + "\n");
            Result rotated = adminThrough(both, token, "admin", "rotate-token");
            assertThat(rotated.exitCode()).as(rotated.stderr()).isZero();
            assertThat(rotated.stdout()).contains("written to " + token);
            String newToken = Files.readString(directory.resolve(token)).strip();
            assertThat(newToken).isNotEqualTo(oldToken);
            assertThat(Files.getPosixFilePermissions(directory.resolve(token))).extracting(Object::toString)
                    .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
            Process restarted = replica("a");
            String again = listeningAddress("a.out");
            for (String replica : List.of(again, b)) {
                assertThat(adminThrough(replica, token, "status", "dev").exitCode()).as("the new token at %s", replica)
                        .isZero();
                Result refused = adminThrough(replica, "old.token", "status", "dev");
                assertThat(refused.exitCode()).as("the old token at %s", replica).isNotZero();
                assertThat(refused.stderr()).contains("refused the admin token");
            }
            terminate(agent);
            assertThat(agent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            terminate(restarted);
            terminate(second);
        }
    }

    private void awaitFile(String file, String expected) {
        Path path = directory.resolve(file);
        reactor.core.publisher.Flux.interval(java.time.Duration.ofMillis(50))
                .filter(tick -> readOrEmpty(path).contains(expected))
                .blockFirst(TIMEOUT);
    }
}
