package dev.agentcore.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Checks the README's Java blocks against the code that compiles and runs them. In the README a
 * block is announced by {@code <!-- snippet: NAME -->} on the line before its {@code ```java}
 * fence; in a test the same lines sit between {@code // README-BEGIN NAME} and
 * {@code // README-END NAME}. The block must be those lines exactly, indentation removed.
 */
public final class ReadmeSnippets {

    private static final String MARKER = "<!-- snippet: ";
    private static final Path README = Path.of("../README.md");

    private ReadmeSnippets() {
    }

    /** Asserts that the README's block named {@code name} is exactly that snippet of {@code source}. */
    public static void assertReadmeShows(Path source, String name) {
        String snippet = String.join("\n", snippet(read(source), name, source));
        String block = String.join("\n", block(read(README), name));
        assertThat(block).as("README.md's '%s' block against %s", name, source).isEqualTo(snippet);
    }

    /**
     * Asserts that every {@code ```java} block of the README is announced by a snippet marker,
     * that no name is used twice, and that each name has exactly one {@code README-BEGIN} among
     * the Java sources under {@code root} (the repository), so no block goes unchecked.
     */
    public static void assertEveryJavaBlockIsASnippet(Path root) {
        List<String> readme = read(README);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < readme.size(); i++) {
            if (readme.get(i).strip().equals("```java")) {
                String before = i == 0 ? "" : readme.get(i - 1).strip();
                assertThat(before).as("README.md line %d: a ```java block without a snippet marker before it", i + 1)
                        .startsWith(MARKER).endsWith("-->");
                names.add(nameIn(before));
            }
        }
        assertThat(names).as("snippet names in README.md").doesNotHaveDuplicates().isNotEmpty();
        List<Path> sources = javaSources(root);
        for (String name : names) {
            assertThat(sources).as("sources with '// README-BEGIN %s'", name)
                    .filteredOn(source -> read(source).stream().anyMatch(line -> line.strip()
                            .equals("// README-BEGIN " + name)))
                    .hasSize(1);
        }
    }

    private static String nameIn(String marker) {
        return marker.substring(MARKER.length(), marker.length() - "-->".length()).strip();
    }

    private static List<String> snippet(List<String> lines, String name, Path source) {
        int begin = indexOf(lines, "// README-BEGIN " + name, 0, source);
        int end = indexOf(lines, "// README-END " + name, begin, source);
        int indent = lines.get(begin).indexOf("//");
        return lines.subList(begin + 1, end).stream()
                .map(line -> line.length() >= indent && line.substring(0, indent).isBlank()
                        ? line.substring(indent) : line.strip())
                .collect(Collectors.toList());
    }

    private static List<String> block(List<String> readme, String name) {
        int marker = indexOf(readme, MARKER + name + " -->", 0, README);
        assertThat(readme.get(marker + 1).strip()).as("the line after the '%s' marker", name).isEqualTo("```java");
        int end = indexOf(readme, "```", marker + 2, README);
        return readme.subList(marker + 2, end);
    }

    private static int indexOf(List<String> lines, String line, int from, Path where) {
        for (int i = from; i < lines.size(); i++) {
            if (lines.get(i).strip().equals(line)) {
                return i;
            }
        }
        throw new AssertionError("no line '" + line + "' in " + where);
    }

    private static List<Path> javaSources(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(path -> path.toString().endsWith(".java"))
                    .filter(path -> !path.toString().contains("/target/") && !path.toString().contains("/.git/"))
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> read(Path path) {
        try {
            return Files.readAllLines(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
