package dev.agentcore.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AgentRow;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RowNotificationTest {

    @Test
    void aRowSurvivesTheRoundTripWhateverItsTextHolds() {
        AgentRow row = new AgentRow(AgentId.of("row;1%2"), "ws-1.a_b", 7, Instant.ofEpochSecond(1, 123_456_789),
                LifecycleState.READY, Instant.ofEpochSecond(2, 1), Instant.ofEpochSecond(3, 999_999_999),
                new ChainId("inc;arn=ation %ü", 4), 2, true, true, 12, 3);

        RowNotification.Decoded decoded = RowNotification.decode(RowNotification.encode("replica-a", row));

        assertThat(decoded.replica()).isEqualTo("replica-a");
        assertThat(decoded.agentId()).isEqualTo(row.agentId());
        assertThat(decoded.row()).contains(row);
    }

    @Test
    void aRowAtCreatedWithNoChainAndNoTimesSurvivesTheRoundTrip() {
        AgentRow row = AgentRow.created(AgentId.of("r"), "ws", 1, Instant.ofEpochSecond(5), 1);

        assertThat(RowNotification.decode(RowNotification.encode("x", row)).row()).contains(row);
    }

    @Test
    void anOlderReplicasBareRowIdIsARowToReadBack() {
        RowNotification.Decoded decoded = RowNotification.decode("5b1c0f8e-0000-4000-8000-000000000001");

        assertThat(decoded.agentId()).isEqualTo(AgentId.of("5b1c0f8e-0000-4000-8000-000000000001"));
        assertThat(decoded.row()).isEmpty();
        assertThat(decoded.replica()).isEmpty();
    }

    @Test
    void aRowFromAReplicaOlderThanScriptsRevisionsCarriesTheFirstRevision() {
        AgentRow row = AgentRow.created(AgentId.of("r"), "ws", 1, Instant.ofEpochSecond(5), 1);
        String encoded = RowNotification.encode("x", row);
        String withoutRevision = encoded.substring(0, encoded.lastIndexOf(';'));

        assertThat(RowNotification.decode(withoutRevision).row()).contains(row);
    }

    @Test
    void aPayloadCarriesSeveralRowsWhateverTheirTextHolds() {
        AgentRow first = AgentRow.created(AgentId.of("a|b"), "ws|1", 1, Instant.ofEpochSecond(5), 4);
        AgentRow second = new AgentRow(AgentId.of("c"), "ws", 2, Instant.ofEpochSecond(6), LifecycleState.STARTING,
                Instant.ofEpochSecond(7), null, new ChainId("i|n", 0), 1, true, false, 2, 1);

        String payload = RowNotification.encode("x", first) + RowNotification.SEPARATOR + RowNotification.encode("x", second);

        assertThat(RowNotification.decodeAll(payload)).extracting(decoded -> decoded.row().orElseThrow())
                .containsExactly(first, second);
        assertThat(RowNotification.isFrom("x", payload)).isTrue();
        assertThat(RowNotification.isFrom("y", payload)).isFalse();
        assertThat(RowNotification.isFrom("x", "5b1c0f8e-0000-4000-8000-000000000001")).isFalse();
    }
}
