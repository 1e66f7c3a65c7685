package dev.agentcore.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/** The build's version, as the pom set it (one place): what {@code agentcore --version} prints. */
final class Version implements CommandLine.IVersionProvider {

    /** The version this command line was built as, for example {@code 0.1.0-SNAPSHOT}. */
    static String current() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                throw new IllegalStateException("version.properties is missing from the build");
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {"agentcore " + current()};
    }
}
