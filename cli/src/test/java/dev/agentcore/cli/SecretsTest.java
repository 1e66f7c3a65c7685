package dev.agentcore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Secrets reach the command line's processes through the environment or files, never through
 * their command lines, and no process prints one: not in a log line, not in an error.
 */
class SecretsTest extends CommandLineProcesses {

    private final String password = "pw-" + UUID.randomUUID();
    private final String adminToken = "admin-" + UUID.randomUUID();

    @Test
    void secretsFromTheEnvironmentServeTheWholeStoryAndNoProcessPrintsOne() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            // The embedded server trusts local connections: the password is carried, checked by nobody.
            String storeUrl = "r2dbc:postgresql://postgres:" + password + "@127.0.0.1:" + postgres.getPort() + "/postgres";
            Process controlPlane = start("control-plane", Map.of(Secrets.STORE_URL, storeUrl, Secrets.ADMIN_TOKEN, adminToken),
                    "control-plane", "--listen", "127.0.0.1:0", "--data-dir", "data");
            String address = listeningAddress("control-plane.out");
            assertThat(directory.resolve("data/admin.token")).as("no token file when the environment gives one")
                    .doesNotExist();
            Map<String, String> admin = Map.of(Secrets.ADMIN_TOKEN, adminToken);

            Result created = run(admin, "workspace", "create", "dev", "--startup-script", "true", "--json",
                    "--control-plane", address);
            assertThat(created.exitCode()).as(created.stderr()).isZero();
            String identity = CommandLineProcesses.field(created.stdout(), "instance_identity");
            assertThat(run(admin, "build", "start", "dev", "--control-plane", address).exitCode()).isZero();
            Process agent = start("agent", Map.of(Secrets.IDENTITY, identity), "agent", "--control-plane", address);
            Result ready = run(admin, "wait", "dev", "--timeout", "60s", "--control-plane", address);
            assertThat(ready.exitCode()).as(ready.stdout() + ready.stderr()).isZero();

            for (Process process : List.of(controlPlane, agent)) {
                assertThat(process.info().arguments().map(List::of).orElse(List.of()))
                        .as("a command line, which every user of the host can read")
                        .noneMatch(argument -> argument.contains(password) || argument.contains(adminToken)
                                || argument.contains(identity));
            }
            agent.destroy();
            controlPlane.destroy();
            agent.waitFor();
            controlPlane.waitFor();
            assertNoOutputHolds(password, adminToken, identity);
        }
    }

    @Test
    void aStoreThatCannotBeOpenedIsNamedWithItsPasswordHidden() throws Exception {
        String storeUrl = "r2dbc:postgresql://agentcore:" + password + "@127.0.0.1:1/agentcore";
        Files.writeString(directory.resolve("store.url"), storeUrl + "\n");

        Result fromFile = run("control-plane", "--listen", "127.0.0.1:0", "--data-dir", "data", "--store-file", "store.url");
        Result fromEnvironment = run(Map.of(Secrets.STORE_URL, storeUrl),
                "control-plane", "--listen", "127.0.0.1:0", "--data-dir", "data");

        for (Result result : List.of(fromFile, fromEnvironment)) {
            assertThat(result.exitCode()).as(result.stderr()).isEqualTo(ExitCodes.ERROR);
            assertThat(result.stderr()).contains("cannot open the store r2dbc:postgresql://agentcore:***@127.0.0.1:1/agentcore");
        }
        assertNoOutputHolds(password);
    }

    @Test
    void aPasswordOnTheCommandLineIsWarnedAboutAndNotRepeated() throws Exception {
        Result result = run("control-plane", "--listen", "127.0.0.1:0", "--data-dir", "data",
                "--store", "r2dbc:postgresql://agentcore:" + password + "@127.0.0.1:1/agentcore");

        assertThat(result.exitCode()).isEqualTo(ExitCodes.ERROR);
        assertThat(result.stderr()).contains("--store holds a password").contains(Secrets.STORE_URL);
        assertNoOutputHolds(password);
    }

    @Test
    void twoPlacesForOneSecretIsAUsageError() throws Exception {
        Files.writeString(directory.resolve("store.url"), "mem\n");

        Result both = run("control-plane", "--store", "mem", "--store-file", "store.url", "--data-dir", "data");
        Result noIdentity = run(Map.of(Secrets.IDENTITY, " "), "agent");

        assertThat(both.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(both.stderr()).contains("--store and --store-file both name the store");
        assertThat(noIdentity.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noIdentity.stderr()).contains("pass --identity-file FILE or set " + Secrets.IDENTITY);
    }

    /** No file any process wrote (logs, errors, answers) holds any of the secrets, except where created says it. */
    private void assertNoOutputHolds(String... secrets) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            List<Path> outputs = files.filter(file -> file.toString().endsWith(".out") || file.toString().endsWith(".err"))
                    .toList();
            assertThat(outputs).isNotEmpty();
            for (Path output : outputs) {
                String text = readOrEmpty(output);
                for (String secret : secrets) {
                    boolean shownOnPurpose = text.startsWith("{\"workspace\":\"dev\",\"instance_identity\":");
                    if (!shownOnPurpose) {
                        assertThat(text).as("%s holds a secret", output.getFileName()).doesNotContain(secret);
                    }
                }
            }
        }
    }
}
