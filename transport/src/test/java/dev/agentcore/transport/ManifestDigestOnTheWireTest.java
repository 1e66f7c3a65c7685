package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.Script;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The manifest's content_digest as another client sees it: present on the wire, equal to
 * core's, and computable from the message's fields by following agent.proto's comment alone.
 */
class ManifestDigestOnTheWireTest {

    private final Manifest manifest = new Manifest(AgentId.of("row-1"), "ws", "agent",
            List.of(new Script("make é", Duration.ofSeconds(90, 5), true)), List.of(new Script("flush", Duration.ofSeconds(10), false)));

    @Test
    void theEncodedManifestCarriesTheDigestAgentProtoDescribes() throws Exception {
        dev.agentcore.transport.proto.v1.Manifest sent = dev.agentcore.transport.proto.v1.Manifest.parseFrom(
                ProtoCodec.encodeManifest(manifest, Instant.parse("2026-01-01T10:00:00Z")));

        assertThat(sent.getContentDigest()).isEqualTo(manifest.contentDigest()).isEqualTo(asTheProtoSays(sent));
        assertThat(ProtoCodec.decodeManifest(ByteBuffer.wrap(sent.toByteArray())).contentDigest())
                .as("the agent's copy digests the same").isEqualTo(sent.getContentDigest());
    }

    /** The digest computed from the message's fields as agent.proto's comment says, with no use of core. */
    private static String asTheProtoSays(dev.agentcore.transport.proto.v1.Manifest message) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] tag = "agentcore.manifest.content/1".getBytes(StandardCharsets.UTF_8); // ASCII: modified UTF-8 is the same
        bytes.write(ByteBuffer.allocate(2).putShort((short) tag.length).array());
        bytes.write(tag);
        for (List<dev.agentcore.transport.proto.v1.Script> phase : List.of(message.getStartupScriptsList(),
                message.getShutdownScriptsList())) {
            bytes.write(ByteBuffer.allocate(4).putInt(phase.size()).array());
            for (dev.agentcore.transport.proto.v1.Script script : phase) {
                byte[] command = script.getCommand().getBytes(StandardCharsets.UTF_8);
                bytes.write(ByteBuffer.allocate(4).putInt(command.length).array());
                bytes.write(command);
                bytes.write(ByteBuffer.allocate(8 + 4 + 1).putLong(script.getTimeout().getSeconds())
                        .putInt(script.getTimeout().getNanos()).put((byte) (script.getBlocksLogin() ? 1 : 0)).array());
            }
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
    }
}
