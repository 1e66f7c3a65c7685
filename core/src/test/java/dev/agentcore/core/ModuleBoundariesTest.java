package dev.agentcore.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** core's internal package is core's own: no other module's main code may use it. */
class ModuleBoundariesTest {

    @Test
    void noOtherModuleUsesCoresInternals() {
        List<Path> offenders;
        try (Stream<Path> files = Files.walk(Path.of(".."))) {
            offenders = files.filter(path -> path.toString().endsWith(".java"))
                    .filter(path -> path.toString().contains("/src/main/"))
                    .filter(path -> !path.normalize().toString().startsWith("core/")
                            && !path.toString().startsWith("../core/"))
                    .filter(path -> read(path).contains("dev.agentcore.core.internal"))
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(offenders).isEmpty();
    }

    private static String read(Path path) {
        try {
            return Files.readString(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
