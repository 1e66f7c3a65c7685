package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.Script;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.proto.v1.WorkspaceDescription;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON tools print is the schema's: protobuf's JsonFormat reads it back into the same values. */
class WireJsonTest {

    @Test
    void aRowPrintsAsItsAgentRowMessageAndReadsBackTheSame() throws Exception {
        Instant created = Instant.parse("2026-11-29T08:00:00Z");
        AgentRow row = new AgentRow(AgentId.of("0b6d6a52-7a43-4c0e-9f7e-1d3f4a5b6c7d"), "dev", 3, created,
                LifecycleState.READY, created.plusMillis(250), created.plusSeconds(2), new ChainId("chain-1", 2), 4,
                true, true, 7, 1);

        String json = WireJson.row(row);

        assertThat(json).doesNotContain("\n").contains("\"agent_id\":\"0b6d6a52-7a43-4c0e-9f7e-1d3f4a5b6c7d\"")
                .contains("\"build_number\":\"3\"").contains("\"state\":\"READY\"").contains("\"active\":true")
                .contains("\"started_at\":\"2026-11-29T08:00:00.250Z\"");
        var message = dev.agentcore.transport.proto.v1.AgentRow.newBuilder();
        JsonFormat.parser().merge(json, message);
        AgentRow read = ProtoCodec.decodeRow(ByteBuffer.wrap(message.build().toByteArray()));
        assertThat(read).usingRecursiveComparison().ignoringFields("buildDurationRecorded").isEqualTo(row);
    }

    @Test
    void aWorkspacePrintsAsItsDescriptionWithoutItsIdentity() throws Exception {
        Workspace workspace = new Workspace("dev", "dev-agent",
                List.of(new Script("make up", Duration.ofSeconds(90), true)), List.of(new Script("make down", Duration.ofSeconds(5), false)));

        String json = WireJson.workspace(workspace);

        assertThat(json).isEqualTo("{\"workspace\":\"dev\",\"agent_name\":\"dev-agent\",\"startup_scripts\":"
                + "[{\"command\":\"make up\",\"timeout\":\"90s\",\"blocks_login\":true}],\"shutdown_scripts\":"
                + "[{\"command\":\"make down\",\"timeout\":\"5s\",\"blocks_login\":false}],\"blocking\":true}");
        WorkspaceDescription.Builder message = WorkspaceDescription.newBuilder();
        JsonFormat.parser().merge(json, message);
        assertThat(ProtoCodec.decodeWorkspace(ByteBuffer.wrap(message.build().toByteArray()))).isEqualTo(workspace);
    }
}
