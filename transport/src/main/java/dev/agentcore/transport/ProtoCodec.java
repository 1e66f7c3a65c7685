package dev.agentcore.transport;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.Script;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.proto.v1.ConnectionGrant;
import dev.agentcore.transport.proto.v1.CreateWorkspaceRequest;
import dev.agentcore.transport.proto.v1.LifecycleBinding;
import dev.agentcore.transport.proto.v1.ScriptList;
import dev.agentcore.transport.proto.v1.UpdateScriptsRequest;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Maps core values to and from their protobuf messages. The generated types never leave this package. */
final class ProtoCodec {

    private ProtoCodec() {
    }

    /** Parses one message, turning a bad frame into INVALID_ARGUMENT with the message's name. */
    interface Parser<T> {
        T parse(ByteBuffer data) throws InvalidProtocolBufferException;
    }

    static <T> T parse(Parser<T> parser, ByteBuffer data, String what) {
        try {
            return parser.parse(data);
        } catch (InvalidProtocolBufferException e) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "payload is not a valid " + what + " message: "
                    + e.getMessage());
        }
    }

    // ---- timestamps and durations --------------------------------------------------------------

    static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    static Instant instant(Timestamp timestamp) {
        if (timestamp.getNanos() < 0 || timestamp.getNanos() > 999_999_999) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "timestamp nanos out of range: " + timestamp.getNanos());
        }
        try {
            return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
        } catch (RuntimeException e) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "timestamp out of range: " + timestamp.getSeconds() + "s");
        }
    }

    // ---- states and chains ------------------------------------------------------------------------

    /** The wire's state for ours: an explicit table, so reordering either enum changes no number. */
    static dev.agentcore.transport.proto.v1.LifecycleState state(LifecycleState state) {
        return switch (state) {
            case CREATED -> dev.agentcore.transport.proto.v1.LifecycleState.CREATED;
            case STARTING -> dev.agentcore.transport.proto.v1.LifecycleState.STARTING;
            case READY -> dev.agentcore.transport.proto.v1.LifecycleState.READY;
            case START_TIMEOUT -> dev.agentcore.transport.proto.v1.LifecycleState.START_TIMEOUT;
            case START_ERROR -> dev.agentcore.transport.proto.v1.LifecycleState.START_ERROR;
            case SHUTTING_DOWN -> dev.agentcore.transport.proto.v1.LifecycleState.SHUTTING_DOWN;
            case OFF -> dev.agentcore.transport.proto.v1.LifecycleState.OFF;
            case SHUTDOWN_TIMEOUT -> dev.agentcore.transport.proto.v1.LifecycleState.SHUTDOWN_TIMEOUT;
            case SHUTDOWN_ERROR -> dev.agentcore.transport.proto.v1.LifecycleState.SHUTDOWN_ERROR;
        };
    }

    /** Our state for the wire's; UNSPECIFIED and numbers this version does not know are INVALID_ARGUMENT. */
    static LifecycleState state(dev.agentcore.transport.proto.v1.LifecycleState state) {
        return switch (state) {
            case CREATED -> LifecycleState.CREATED;
            case STARTING -> LifecycleState.STARTING;
            case READY -> LifecycleState.READY;
            case START_TIMEOUT -> LifecycleState.START_TIMEOUT;
            case START_ERROR -> LifecycleState.START_ERROR;
            case SHUTTING_DOWN -> LifecycleState.SHUTTING_DOWN;
            case OFF -> LifecycleState.OFF;
            case SHUTDOWN_TIMEOUT -> LifecycleState.SHUTDOWN_TIMEOUT;
            case SHUTDOWN_ERROR -> LifecycleState.SHUTDOWN_ERROR;
            case LIFECYCLE_STATE_UNSPECIFIED -> throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT,
                    "unknown or unspecified lifecycle state 0");
            case UNRECOGNIZED -> throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT,
                    "unknown or unspecified lifecycle state");
        };
    }

    static dev.agentcore.transport.proto.v1.ChainId chain(ChainId chain) {
        return dev.agentcore.transport.proto.v1.ChainId.newBuilder()
                .setIncarnation(chain.incarnation()).setGeneration(chain.generation()).build();
    }

    static ChainId chain(dev.agentcore.transport.proto.v1.ChainId chain) {
        try {
            return new ChainId(chain.getIncarnation(), chain.getGeneration());
        } catch (IllegalArgumentException e) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "invalid chain: " + e.getMessage());
        }
    }

    // ---- lifecycle --------------------------------------------------------------------------------

    static byte[] encodeUpdate(LifecycleUpdate update) {
        dev.agentcore.transport.proto.v1.LifecycleUpdate.Builder message =
                dev.agentcore.transport.proto.v1.LifecycleUpdate.newBuilder()
                        .setChain(chain(update.chain()))
                        .setSeq(update.seq())
                        .setState(state(update.state()))
                        .setReplay(update.replay());
        if (update.changedAt() != null) {
            message.setChangedAt(timestamp(update.changedAt()));
        }
        if (update.originalChangedAt() != null) {
            message.setOriginalChangedAt(timestamp(update.originalChangedAt()));
        }
        return message.build().toByteArray();
    }

    static LifecycleUpdate decodeUpdate(ByteBuffer data) {
        dev.agentcore.transport.proto.v1.LifecycleUpdate message =
                parse(dev.agentcore.transport.proto.v1.LifecycleUpdate::parseFrom, data, "LifecycleUpdate");
        if (!message.hasChain()) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "LifecycleUpdate has no chain");
        }
        if (message.getSeq() < 1) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT,
                    "LifecycleUpdate seq must be 1 or more (an unsigned 64-bit seq past 2^63 is refused), was "
                            + Long.toUnsignedString(message.getSeq()));
        }
        return new LifecycleUpdate(chain(message.getChain()), message.getSeq(), state(message.getState()),
                message.hasChangedAt() ? instant(message.getChangedAt()) : null,
                message.getReplay(),
                message.hasOriginalChangedAt() ? instant(message.getOriginalChangedAt()) : null);
    }

    static byte[] encodeAck(LifecycleAck ack) {
        return dev.agentcore.transport.proto.v1.LifecycleAck.newBuilder()
                .setChain(chain(ack.chain()))
                .setSeq(ack.seq())
                .setOutcome(ack.outcome() == LifecycleAck.Outcome.APPLIED
                        ? dev.agentcore.transport.proto.v1.LifecycleAck.Outcome.APPLIED
                        : dev.agentcore.transport.proto.v1.LifecycleAck.Outcome.DUPLICATE)
                .setRowState(state(ack.rowState()))
                .build().toByteArray();
    }

    static LifecycleAck decodeAck(ByteBuffer data) {
        dev.agentcore.transport.proto.v1.LifecycleAck message =
                parse(dev.agentcore.transport.proto.v1.LifecycleAck::parseFrom, data, "LifecycleAck");
        LifecycleAck.Outcome outcome = switch (message.getOutcome()) {
            case APPLIED -> LifecycleAck.Outcome.APPLIED;
            case DUPLICATE -> LifecycleAck.Outcome.DUPLICATE;
            default -> throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "LifecycleAck has no outcome");
        };
        return new LifecycleAck(chain(message.getChain()), message.getSeq(), outcome, state(message.getRowState()));
    }

    // ---- manifest and scripts -----------------------------------------------------------------------

    static dev.agentcore.transport.proto.v1.Script script(Script script) {
        return dev.agentcore.transport.proto.v1.Script.newBuilder()
                .setCommand(script.command())
                .setTimeout(com.google.protobuf.Duration.newBuilder()
                        .setSeconds(script.timeout().getSeconds()).setNanos(script.timeout().getNano()))
                .setBlocksLogin(script.blocksLogin())
                .build();
    }

    static Script script(dev.agentcore.transport.proto.v1.Script script) {
        try {
            return new Script(script.getCommand(),
                    Duration.ofSeconds(script.getTimeout().getSeconds(), script.getTimeout().getNanos()),
                    script.getBlocksLogin());
        } catch (IllegalArgumentException e) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "invalid script: " + e.getMessage());
        }
    }

    static List<Script> scripts(List<dev.agentcore.transport.proto.v1.Script> scripts) {
        return scripts.stream().map(ProtoCodec::script).toList();
    }

    static byte[] encodeManifest(Manifest manifest, Instant serverTime) {
        return dev.agentcore.transport.proto.v1.Manifest.newBuilder()
                .setServerTime(timestamp(serverTime))
                .setAgentId(manifest.agentId().value())
                .setWorkspaceId(manifest.workspaceId())
                .setAgentName(manifest.agentName())
                .addAllStartupScripts(manifest.startupScripts().stream().map(ProtoCodec::script).toList())
                .addAllShutdownScripts(manifest.shutdownScripts().stream().map(ProtoCodec::script).toList())
                .setContentDigest(manifest.contentDigest())
                .build().toByteArray();
    }

    /** A manifest as the control plane answered it, with its clock at the time (null if it sent none). */
    record ManifestAnswer(Manifest manifest, Instant serverTime) {
    }

    static Manifest decodeManifest(ByteBuffer data) {
        return decodeManifestAnswer(data).manifest();
    }

    static ManifestAnswer decodeManifestAnswer(ByteBuffer data) {
        dev.agentcore.transport.proto.v1.Manifest message =
                parse(dev.agentcore.transport.proto.v1.Manifest::parseFrom, data, "Manifest");
        try {
            Manifest manifest = new Manifest(AgentId.of(message.getAgentId()), message.getWorkspaceId(),
                    message.getAgentName(), scripts(message.getStartupScriptsList()),
                    scripts(message.getShutdownScriptsList()));
            return new ManifestAnswer(manifest, message.hasServerTime() ? instant(message.getServerTime()) : null);
        } catch (IllegalArgumentException e) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "invalid manifest: " + e.getMessage());
        }
    }

    /** A connection exchange's answer: the token, its workspace, and the control plane's clock (null if it sent none). */
    record ConnectionGrantAnswer(String connectionToken, String workspace, Instant serverTime) {
        @Override
        public String toString() {
            return "ConnectionGrantAnswer[workspace=" + workspace + ", connectionToken=<secret>]";
        }
    }

    static byte[] encodeConnectionGrant(String connectionToken, String workspace, Instant serverTime) {
        return ConnectionGrant.newBuilder()
                .setConnectionToken(connectionToken)
                .setWorkspaceId(workspace)
                .setServerTime(timestamp(serverTime))
                .build().toByteArray();
    }

    static ConnectionGrantAnswer decodeConnectionGrant(ByteBuffer data) {
        ConnectionGrant grant = parse(ConnectionGrant::parseFrom, data, "ConnectionGrant");
        if (grant.getConnectionToken().isEmpty()) {
            throw new AgentcoreException(ErrorCode.INTERNAL, "the exchange answered without a connection token");
        }
        return new ConnectionGrantAnswer(grant.getConnectionToken(), grant.getWorkspaceId(),
                grant.hasServerTime() ? instant(grant.getServerTime()) : null);
    }

    static byte[] encodeBinding(AgentId agentId) {
        return LifecycleBinding.newBuilder().setAgentId(agentId.value()).build().toByteArray();
    }

    /** The row a v2 lifecycle channel's first payload names; INVALID_ARGUMENT if it names none or a malformed one. */
    static AgentId decodeBinding(ByteBuffer data) {
        LifecycleBinding binding = parse(LifecycleBinding::parseFrom, data, "LifecycleBinding");
        if (binding.getAgentId().isEmpty()) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "LifecycleBinding names no agent row");
        }
        try {
            return AgentId.of(binding.getAgentId());
        } catch (IllegalArgumentException e) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "LifecycleBinding: " + e.getMessage());
        }
    }

    // ---- rows and workspaces ------------------------------------------------------------------------

    static byte[] encodeRow(AgentRow row) {
        return rowMessage(row).toByteArray();
    }

    static dev.agentcore.transport.proto.v1.AgentRow rowMessage(AgentRow row) {
        dev.agentcore.transport.proto.v1.AgentRow.Builder message = dev.agentcore.transport.proto.v1.AgentRow.newBuilder()
                .setAgentId(row.agentId().value())
                .setWorkspace(row.workspace())
                .setBuildNumber(row.buildNumber())
                .setCreatedAt(timestamp(row.createdAt()))
                .setState(state(row.state()))
                .setLastSeq(row.lastSeq())
                .setActive(row.active())
                .setVersion(row.version())
                .setScriptsRevision(row.scriptsRevision());
        if (row.startedAt() != null) {
            message.setStartedAt(timestamp(row.startedAt()));
        }
        if (row.readyAt() != null) {
            message.setReadyAt(timestamp(row.readyAt()));
        }
        if (row.lastChain() != null) {
            message.setLastChain(chain(row.lastChain()));
        }
        return message.build();
    }

    static AgentRow decodeRow(ByteBuffer data) {
        dev.agentcore.transport.proto.v1.AgentRow message =
                parse(dev.agentcore.transport.proto.v1.AgentRow::parseFrom, data, "AgentRow");
        return new AgentRow(AgentId.of(message.getAgentId()), message.getWorkspace(), message.getBuildNumber(),
                instant(message.getCreatedAt()), state(message.getState()),
                message.hasStartedAt() ? instant(message.getStartedAt()) : null,
                message.hasReadyAt() ? instant(message.getReadyAt()) : null,
                message.hasLastChain() ? chain(message.getLastChain()) : null,
                message.getLastSeq(), message.getActive(), false, message.getVersion(),
                Math.max(1, message.getScriptsRevision()));
    }

    static byte[] encodeCreateWorkspace(Workspace workspace) {
        return CreateWorkspaceRequest.newBuilder()
                .setWorkspace(workspace.name())
                .setAgentName(workspace.agentName())
                .addAllStartupScripts(workspace.startupScripts().stream().map(ProtoCodec::script).toList())
                .addAllShutdownScripts(workspace.shutdownScripts().stream().map(ProtoCodec::script).toList())
                .build().toByteArray();
    }

    static Workspace decodeCreateWorkspace(ByteBuffer data) {
        CreateWorkspaceRequest message = parse(CreateWorkspaceRequest::parseFrom, data, "CreateWorkspaceRequest");
        try {
            String agentName = message.getAgentName().isEmpty() ? message.getWorkspace() + "-agent" : message.getAgentName();
            return new Workspace(message.getWorkspace(), agentName, scripts(message.getStartupScriptsList()),
                    scripts(message.getShutdownScriptsList()));
        } catch (IllegalArgumentException e) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "invalid workspace: " + e.getMessage());
        }
    }

    /** An update of a workspace's scripts: an empty phase is left out (kept as it is). */
    static byte[] encodeUpdateScripts(String workspace, Optional<List<Script>> startupScripts,
            Optional<List<Script>> shutdownScripts) {
        UpdateScriptsRequest.Builder message = UpdateScriptsRequest.newBuilder().setWorkspace(workspace);
        startupScripts.ifPresent(scripts -> message.setStartupScripts(scriptList(scripts)));
        shutdownScripts.ifPresent(scripts -> message.setShutdownScripts(scriptList(scripts)));
        return message.build().toByteArray();
    }

    /** What an update asks: the workspace, then each phase's scripts, empty where it is left out. */
    record ScriptsUpdate(String workspace, Optional<List<Script>> startupScripts, Optional<List<Script>> shutdownScripts) {
    }

    static ScriptsUpdate decodeUpdateScripts(ByteBuffer data) {
        UpdateScriptsRequest message = parse(UpdateScriptsRequest::parseFrom, data, "UpdateScriptsRequest");
        if (message.getWorkspace().isEmpty()) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "UpdateScriptsRequest names no workspace");
        }
        try {
            return new ScriptsUpdate(message.getWorkspace(),
                    message.hasStartupScripts() ? Optional.of(scripts(message.getStartupScripts().getScriptsList()))
                            : Optional.empty(),
                    message.hasShutdownScripts() ? Optional.of(scripts(message.getShutdownScripts().getScriptsList()))
                            : Optional.empty());
        } catch (IllegalArgumentException e) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "invalid scripts: " + e.getMessage());
        }
    }

    private static ScriptList scriptList(List<Script> scripts) {
        return ScriptList.newBuilder().addAllScripts(scripts.stream().map(ProtoCodec::script).toList()).build();
    }

    static byte[] encodeWorkspace(Workspace workspace) {
        return workspaceMessage(workspace).toByteArray();
    }

    static dev.agentcore.transport.proto.v1.WorkspaceDescription workspaceMessage(Workspace workspace) {
        return dev.agentcore.transport.proto.v1.WorkspaceDescription.newBuilder()
                .setWorkspace(workspace.name())
                .setAgentName(workspace.agentName())
                .addAllStartupScripts(workspace.startupScripts().stream().map(ProtoCodec::script).toList())
                .addAllShutdownScripts(workspace.shutdownScripts().stream().map(ProtoCodec::script).toList())
                .setBlocking(workspace.startupScripts().stream().anyMatch(Script::blocksLogin))
                .build();
    }

    static Workspace decodeWorkspace(ByteBuffer data) {
        var message = parse(dev.agentcore.transport.proto.v1.WorkspaceDescription::parseFrom, data, "WorkspaceDescription");
        try {
            return new Workspace(message.getWorkspace(), message.getAgentName(), scripts(message.getStartupScriptsList()),
                    scripts(message.getShutdownScriptsList()));
        } catch (IllegalArgumentException e) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "invalid workspace: " + e.getMessage());
        }
    }
}
