package dev.agentcore.transport;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.Script;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.proto.v1.CreateWorkspaceResponse;
import dev.agentcore.transport.proto.v1.WorkspaceRequest;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import org.reactivestreams.Publisher;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The control routes for administrators and tools: workspaces, builds, rows, watch and changes. */
public final class AdminClient implements Disposable, AutoCloseable {

    private final RSocket rsocket;

    private AdminClient(RSocket rsocket) {
        this.rsocket = rsocket;
    }

    /** Connects with the admin token. */
    public static Mono<AdminClient> connect(ControlPlaneAddress address, String adminToken) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(adminToken, "adminToken");
        return RSocketClients.connect(address, adminToken)
                .map(AdminClient::new);
    }

    /** A request-response on an admin route; a refused SETUP is explained as a wrong admin token. */
    private <T> Mono<T> call(String route, byte[] data, Function<ByteBuffer, T> decoder) {
        return RSocketClients.requestResponse(rsocket, route, data, decoder).onErrorMap(AdminClient::explained);
    }

    /** A request-stream on an admin route; a refused SETUP is explained as a wrong admin token. */
    private <T> Flux<T> stream(String route, byte[] data, Function<ByteBuffer, T> decoder) {
        return RSocketClients.requestStream(rsocket, route, data, decoder).onErrorMap(AdminClient::explained);
    }

    /** What a refused SETUP means to an admin client: the token it was given is the wrong one. */
    private static Throwable explained(Throwable error) {
        if (error instanceof AgentcoreException refusal && refusal.code() == ErrorCode.UNAUTHENTICATED) {
            return new AgentcoreException(ErrorCode.UNAUTHENTICATED, "the control plane refused the admin token: "
                    + "it is not the token the control plane was started with (its --admin-token)");
        }
        return error;
    }

    /** Creates a workspace; emits its instance identity, a secret shown only this once. */
    public Mono<String> createWorkspace(Workspace workspace) {
        return call(Routes.WORKSPACES_CREATE, ProtoCodec.encodeCreateWorkspace(workspace), AdminClient::identityOf);
    }

    /** The workspace with this name (never its instance identity); INVALID_ARGUMENT if there is none. */
    public Mono<Workspace> workspace(String name) {
        return call(Routes.WORKSPACES_GET, request(name, 0), ProtoCodec::decodeWorkspace);
    }

    /** Every workspace, by name. */
    public Flux<Workspace> workspaces() {
        return stream(Routes.WORKSPACES_LIST, new byte[0], ProtoCodec::decodeWorkspace);
    }

    /**
     * Deletes the workspace: its active row is retired (its agent's channels end with FENCED), its
     * identity and every credential handed out for it are refused from then on, and its connections
     * to this control plane are closed. Its rows stay, as history.
     */
    public Mono<Void> deleteWorkspace(String name) {
        return call(Routes.WORKSPACES_DELETE, request(name, 0), data -> Boolean.TRUE).then();
    }

    /**
     * Gives the workspace a new instance identity and emits it (a secret, shown only this once): the
     * old one is refused from then on, and its connections to this control plane are closed.
     */
    public Mono<String> rotateIdentity(String name) {
        return call(Routes.WORKSPACES_ROTATE_IDENTITY, request(name, 0), AdminClient::identityOf);
    }

    /**
     * Sets the scripts of the workspace's builds started from now on (an empty {@code Optional}
     * keeps that phase's scripts) and emits the workspace as updated; the rows already started keep
     * the manifest they have. INVALID_ARGUMENT if there is no such workspace.
     */
    public Mono<Workspace> updateScripts(String name, Optional<List<Script>> startupScripts,
            Optional<List<Script>> shutdownScripts) {
        return call(Routes.WORKSPACES_UPDATE_SCRIPTS,
                ProtoCodec.encodeUpdateScripts(name, startupScripts, shutdownScripts), ProtoCodec::decodeWorkspace);
    }

    /** Starts a build: a new row at CREATED, with the workspace's scripts as they are now; the previous one is retired. */
    public Mono<AgentRow> startBuild(String workspace) {
        return call(Routes.BUILDS_START, request(workspace, 0), ProtoCodec::decodeRow);
    }

    /** Stops the workspace's build: its active row is retired. Emits the row. */
    public Mono<AgentRow> stopBuild(String workspace) {
        return call(Routes.BUILDS_STOP, request(workspace, 0), ProtoCodec::decodeRow);
    }

    /** The workspace's rows, latest build first, at most {@code limit}. */
    public Flux<AgentRow> rows(String workspace, int limit) {
        return stream(Routes.ROWS, request(workspace, limit), ProtoCodec::decodeRow);
    }

    /** The workspace's latest row, then every later change; never completes on its own. */
    public Flux<AgentRow> watch(String workspace) {
        return stream(Routes.WATCH, request(workspace, 0), ProtoCodec::decodeRow);
    }

    /** Every row change of every workspace from now on (no initial rows); never completes on its own. */
    public Flux<AgentRow> changes() {
        return stream(Routes.CHANGES, new byte[0], ProtoCodec::decodeRow);
    }

    /**
     * A request-channel on a route the control plane was given with
     * {@link ControlPlaneServer.Builder#adminChannelRoute}: the first payload opens it with the
     * route, then each of {@code payloads} goes as it is. The caller releases each answer.
     */
    public Flux<Payload> channel(String route, Publisher<Payload> payloads) {
        Flux<Payload> outbound = Flux.concat(Mono.fromSupplier(() -> RSocketClients.routed(route, new byte[0])),
                Flux.from(payloads));
        return rsocket.requestChannel(outbound).onErrorMap(WireErrors::fromWire).onErrorMap(AdminClient::explained);
    }

    /** The instance identity a create or a new identity answers with. */
    private static String identityOf(ByteBuffer data) {
        return ProtoCodec.parse(CreateWorkspaceResponse::parseFrom, data, "CreateWorkspaceResponse").getInstanceIdentity();
    }

    private static byte[] request(String workspace, int limit) {
        return WorkspaceRequest.newBuilder().setWorkspace(workspace).setLimit(limit).build().toByteArray();
    }

    @Override
    public void dispose() {
        rsocket.dispose();
    }

    /** Same as {@link #dispose()}, for try-with-resources. */
    @Override
    public void close() {
        dispose();
    }

    @Override
    public boolean isDisposed() {
        return rsocket.isDisposed();
    }
}
