package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The random generator behind secrets and ids seeds from the operating system with a blocking
 * read. In one test JVM some earlier test has always seeded it on a test thread, which hid that
 * a control plane's first secret seeded it on an event loop: so this runs in a fresh JVM.
 */
class RandomSeedTest {

    @Test
    void aFreshControlPlanesFirstSecretDoesNotBlockItsEventLoop() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(List.of(java, "-XX:+AllowRedefinitionToAddDeleteMethods",
                "-cp", System.getProperty("java.class.path"), FirstSecretProcess.class.getName()))
                .redirectErrorStream(true)
                .start();
        String output = new String(child.getInputStream().readAllBytes());
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the child exits").isTrue();

        assertThat(child.exitValue()).as("the child's output:%n%s", output).isZero();
        assertThat(output).contains("created").doesNotContain("BlockingOperationError");
    }
}
