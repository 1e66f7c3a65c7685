package dev.agentcore.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class WriteStatsTest {

    @Test
    void aFormattedLineIsReadBackAsTheSameStats() {
        WriteStats stats = new WriteStats(3, 7, new long[] {0, 1, 1, 0, 1}, 1_500_000L, 250_000L);

        assertThat(stats.format()).isEqualTo("3 7 1:1,2:1,4:1 1500000 250000");
        assertThat(WriteStats.parse(stats.format())).isEqualTo(stats);
        assertThat(WriteStats.parse(new WriteStats(0, 0, new long[0], 0, 0).format()))
                .isEqualTo(new WriteStats(0, 0, new long[0], 0, 0));
    }

    @Test
    void sinceIsWhatWasCommittedInBetweenTimesIncluded() {
        WriteStats earlier = new WriteStats(1, 2, new long[] {0, 0, 1}, 100, 10);
        WriteStats later = new WriteStats(3, 5, new long[] {0, 1, 2}, 400, 70);

        assertThat(later.since(earlier)).isEqualTo(new WriteStats(2, 3, new long[] {0, 1, 1}, 300, 60));
    }

    @Test
    void aLineOfAnotherShapeIsRefusedInWords() {
        assertThatThrownBy(() -> WriteStats.parse("3 7 1:1,2:1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("committingNanos answeringNanos");
    }
}
