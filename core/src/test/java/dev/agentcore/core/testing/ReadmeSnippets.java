package dev.agentcore.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** Checks that the README shows a snippet exactly as a test compiles and runs it. */
public final class ReadmeSnippets {

    private ReadmeSnippets() {
    }

    /**
     * Asserts that ../README.md contains the lines between {@code // README-BEGIN name} and
     * {@code // README-END name} in {@code source}, with the source's indentation removed.
     */
    public static void assertReadmeShows(Path source, String name) {
        try {
            List<String> lines = Files.readAllLines(source);
            int begin = indexOf(lines, "// README-BEGIN " + name);
            int end = indexOf(lines, "// README-END " + name);
            int indent = lines.get(begin).indexOf("//");
            String snippet = lines.subList(begin + 1, end).stream()
                    .map(line -> line.length() >= indent ? line.substring(indent) : line.strip())
                    .collect(Collectors.joining("\n"));
            assertThat(Files.readString(Path.of("../README.md")))
                    .as("README.md shows the '%s' snippet of %s", name, source)
                    .contains(snippet);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int indexOf(List<String> lines, String marker) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).strip().equals(marker)) {
                return i;
            }
        }
        throw new AssertionError("no line '" + marker + "'");
    }
}
