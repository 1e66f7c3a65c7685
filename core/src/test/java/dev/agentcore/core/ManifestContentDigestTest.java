package dev.agentcore.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Manifest#contentDigest()}: each field that changes what the agent runs counts; the others do not. */
class ManifestContentDigestTest {

    private static final Script BUILD = new Script("make", Duration.ofMinutes(5), true);
    private static final Script WARM = new Script("warm-cache", Duration.ofSeconds(30), false);
    private static final Script FLUSH = new Script("flush", Duration.ofSeconds(10), false);

    private static Manifest manifest(List<Script> startup, List<Script> shutdown) {
        return new Manifest(AgentId.of("row-1"), "ws", "agent", startup, shutdown);
    }

    private final Manifest base = manifest(List.of(BUILD, WARM), List.of(FLUSH));

    @Test
    void theDigestIsSixtyFourLowercaseHexDigitsAndStable() {
        assertThat(base.contentDigest()).matches("[0-9a-f]{64}").isEqualTo(manifest(List.of(BUILD, WARM), List.of(FLUSH))
                .contentDigest());
    }

    @Test
    void theRowTheWorkspaceAndTheAgentsNameDoNotCount() {
        Manifest elsewhere = new Manifest(AgentId.of("row-2"), "another-ws", "another-agent", List.of(BUILD, WARM),
                List.of(FLUSH));

        assertThat(elsewhere.contentDigest()).isEqualTo(base.contentDigest());
    }

    @Test
    void aStartupCommandCounts() {
        assertChanges(manifest(List.of(new Script("make all", BUILD.timeout(), true), WARM), List.of(FLUSH)));
    }

    @Test
    void aStartupTimeoutCountsToTheNanosecond() {
        assertChanges(manifest(List.of(new Script("make", Duration.ofMinutes(5).plusNanos(1), true), WARM), List.of(FLUSH)));
    }

    @Test
    void whetherAStartupScriptBlocksLoginsCounts() {
        assertChanges(manifest(List.of(new Script("make", BUILD.timeout(), false), WARM), List.of(FLUSH)));
    }

    @Test
    void theOrderOfTheScriptsCounts() {
        assertChanges(manifest(List.of(WARM, BUILD), List.of(FLUSH)));
    }

    @Test
    void anAddedOrRemovedScriptCounts() {
        assertChanges(manifest(List.of(BUILD, WARM, WARM), List.of(FLUSH)));
        assertChanges(manifest(List.of(BUILD), List.of(FLUSH)));
        assertChanges(manifest(List.of(BUILD, WARM), List.of()));
    }

    @Test
    void aScriptMovedBetweenStartupAndShutdownCounts() {
        assertChanges(manifest(List.of(BUILD, WARM, FLUSH), List.of()));
    }

    @Test
    void theShutdownScriptsCommandTimeoutAndBlockingCount() {
        assertChanges(manifest(List.of(BUILD, WARM), List.of(new Script("flush --all", FLUSH.timeout(), false))));
        assertChanges(manifest(List.of(BUILD, WARM), List.of(new Script("flush", Duration.ofSeconds(11), false))));
        assertChanges(manifest(List.of(BUILD, WARM), List.of(new Script("flush", FLUSH.timeout(), true))));
    }

    @Test
    void commandsThatConcatenateAlikeStayApart() {
        Manifest split = manifest(List.of(new Script("ab", WARM.timeout(), false), new Script("c", WARM.timeout(), false)),
                List.of());
        Manifest joined = manifest(List.of(new Script("a", WARM.timeout(), false), new Script("bc", WARM.timeout(), false)),
                List.of());

        assertThat(split.contentDigest()).isNotEqualTo(joined.contentDigest());
    }

    private void assertChanges(Manifest changed) {
        assertThat(changed.contentDigest()).as("%s against %s", changed, base).isNotEqualTo(base.contentDigest());
    }
}
