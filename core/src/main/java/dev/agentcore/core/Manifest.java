package dev.agentcore.core;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * What the control plane tells an agent when it connects: the row it is bound to and what to run.
 *
 * @param agentId the row this session reports to
 * @param workspaceId the workspace the row belongs to
 * @param agentName a name for people
 * @param startupScripts run, in order, when the agent starts
 * @param shutdownScripts run, in order, when the agent shuts down
 */
public record Manifest(AgentId agentId, String workspaceId, String agentName,
                       List<Script> startupScripts, List<Script> shutdownScripts) {

    public Manifest {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(workspaceId, "workspaceId");
        Objects.requireNonNull(agentName, "agentName");
        startupScripts = List.copyOf(startupScripts);
        shutdownScripts = List.copyOf(shutdownScripts);
    }

    /** A manifest with no scripts. */
    public static Manifest of(AgentId agentId, String workspaceId, String agentName) {
        return new Manifest(agentId, workspaceId, agentName, List.of(), List.of());
    }

    /**
     * The digest of what this manifest asks the agent to do, and of nothing else: its startup and
     * shutdown scripts in order, each with its command, timeout and whether it blocks logins; not
     * the row, the workspace or the agent's name, which do not change what runs. Two manifests
     * with equal digests run the same ({@link dev.agentcore.core.agent.AgentChangePolicy#AUTO}
     * replays between them). SHA-256 of a length-prefixed encoding, as 64 lowercase hex digits. A
     * field added to the manifest that changes what the agent does must be added here.
     */
    public String contentDigest() {
        ByteArrayOutputStream encoded = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(encoded)) {
            out.writeUTF("agentcore.manifest.content/1");
            for (List<Script> phase : List.of(startupScripts, shutdownScripts)) {
                out.writeInt(phase.size());
                for (Script script : phase) {
                    byte[] command = script.command().getBytes(StandardCharsets.UTF_8);
                    out.writeInt(command.length);
                    out.write(command);
                    out.writeLong(script.timeout().getSeconds());
                    out.writeInt(script.timeout().getNano());
                    out.writeBoolean(script.blocksLogin());
                }
            }
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible); // a ByteArrayOutputStream does not fail
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(encoded.toByteArray()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
