package dev.agentcore.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The BOM has no parent, so it states the version itself: it must be the project's. */
class ProjectVersionTest {

    private static final Pattern OWN_VERSION = Pattern.compile(
            "<artifactId>(agentcore-parent|agentcore-bom)</artifactId>\\s*<version>([^<]+)</version>");

    @Test
    void theBomHasTheProjectsVersion() throws Exception {
        assertThat(ownVersion(Path.of("../bom/pom.xml"))).isEqualTo(ownVersion(Path.of("../pom.xml")));
    }

    private static String ownVersion(Path pom) throws Exception {
        Matcher matcher = OWN_VERSION.matcher(Files.readString(pom));
        assertThat(matcher.find()).as("%s states its version after its artifactId", pom).isTrue();
        return matcher.group(2);
    }
}
