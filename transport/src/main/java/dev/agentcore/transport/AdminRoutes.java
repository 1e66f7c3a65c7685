package dev.agentcore.transport;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.transport.proto.v1.AdminTokenResponse;
import dev.agentcore.transport.proto.v1.CreateWorkspaceResponse;
import dev.agentcore.transport.proto.v1.WorkspaceRequest;
import io.rsocket.Payload;
import io.rsocket.util.DefaultPayload;
import java.nio.ByteBuffer;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The admin's routes, for the admin token only: workspaces (create, get, list, delete, a new identity,
 * new scripts), a new admin token, builds,
 * rows, watch and changes,
 * through the services; and the request-channel routes an embedding program added.
 */
final class AdminRoutes {

    private static final int DEFAULT_ROWS_LIMIT = 20;

    private final AccessService access;
    private final LifecycleService lifecycle;
    private final ServerSettings settings;

    AdminRoutes(AccessService access, LifecycleService lifecycle, ServerSettings settings) {
        this.access = access;
        this.lifecycle = lifecycle;
        this.settings = settings;
    }

    RouteTable.Builder addTo(RouteTable.Builder table) {
        table.response(Routes.WORKSPACES_CREATE, admin(this::createWorkspace))
                .response(Routes.WORKSPACES_GET, admin(data -> access.workspace(workspaceOf(data).getWorkspace())
                        .map(workspace -> payload(ProtoCodec.encodeWorkspace(workspace)))))
                .response(Routes.WORKSPACES_DELETE, admin(this::deleteWorkspace))
                .response(Routes.WORKSPACES_ROTATE_IDENTITY, admin(this::rotateIdentity))
                .response(Routes.WORKSPACES_UPDATE_SCRIPTS, admin(this::updateScripts))
                .response(Routes.ADMIN_ROTATE_TOKEN, (caller, data) -> {
                    Principal.requireAdmin(caller.principal());
                    caller.rotatesTheAdminToken();
                    return access.rotateAdminToken()
                            .map(token -> payload(AdminTokenResponse.newBuilder().setAdminToken(token).build().toByteArray()));
                })
                .stream(Routes.WORKSPACES_LIST, (caller, data) -> {
                    Principal.requireAdmin(caller.principal());
                    return access.workspaces().map(workspace -> payload(ProtoCodec.encodeWorkspace(workspace)));
                })
                .response(Routes.BUILDS_START, admin(this::startBuild))
                .response(Routes.BUILDS_STOP, admin(this::stopBuild))
                .stream(Routes.ROWS, (caller, data) -> {
                    Principal.requireAdmin(caller.principal());
                    return rows(data);
                })
                // Row changes are published by whichever thread wrote them: each watcher's frames are
                // made on its own connection's thread.
                .stream(Routes.WATCH, (caller, data) -> {
                    Principal.requireAdmin(caller.principal());
                    return watch(data, caller.home());
                })
                .stream(Routes.CHANGES, (caller, data) -> {
                    Principal.requireAdmin(caller.principal());
                    return lifecycle.changes().publishOn(caller.home()).map(AdminRoutes::rowPayload);
                });
        settings.adminChannelRoutes().forEach((route, handler) -> table.channel(route, (caller, opening, all) -> {
            Principal.requireAdmin(caller.principal());
            return handler.apply(all);
        }));
        return table;
    }

    private static RouteTable.ResponseRoute admin(Function<ByteBuffer, Mono<Payload>> route) {
        return (caller, data) -> {
            Principal.requireAdmin(caller.principal());
            return route.apply(data);
        };
    }

    private Mono<Payload> createWorkspace(ByteBuffer data) {
        var workspace = ProtoCodec.decodeCreateWorkspace(data);
        return access.createWorkspace(workspace).map(identity -> payload(CreateWorkspaceResponse.newBuilder()
                .setWorkspace(workspace.name())
                .setInstanceIdentity(identity)
                .build().toByteArray()));
    }

    /** Retires the active row first (its channels end with FENCED), then forgets the workspace and its credentials. */
    private Mono<Payload> deleteWorkspace(ByteBuffer data) {
        String workspace = workspaceOf(data).getWorkspace();
        return access.workspace(workspace)
                .then(lifecycle.stopBuild(workspace))
                .then(access.deleteWorkspace(workspace))
                .thenReturn(payload(new byte[0]));
    }

    private Mono<Payload> rotateIdentity(ByteBuffer data) {
        String workspace = workspaceOf(data).getWorkspace();
        return access.rotateIdentity(workspace).map(identity -> payload(CreateWorkspaceResponse.newBuilder()
                .setWorkspace(workspace)
                .setInstanceIdentity(identity)
                .build().toByteArray()));
    }

    private Mono<Payload> updateScripts(ByteBuffer data) {
        ProtoCodec.ScriptsUpdate update = ProtoCodec.decodeUpdateScripts(data);
        return access.updateScripts(update.workspace(), update.startupScripts(), update.shutdownScripts())
                .map(workspace -> payload(ProtoCodec.encodeWorkspace(workspace)));
    }

    /** The new row carries the workspace's scripts as they are now, whatever updates come after. */
    private Mono<Payload> startBuild(ByteBuffer data) {
        String workspace = workspaceOf(data).getWorkspace();
        return access.scriptsRevision(workspace)
                .flatMap(revision -> lifecycle.startBuild(workspace, revision))
                .map(AdminRoutes::rowPayload);
    }

    private Mono<Payload> stopBuild(ByteBuffer data) {
        String workspace = workspaceOf(data).getWorkspace();
        return access.workspace(workspace)
                .then(lifecycle.stopBuild(workspace).switchIfEmpty(lifecycle.latestRow(workspace)))
                .switchIfEmpty(Mono.error(() -> new AgentcoreException(ErrorCode.INVALID_ARGUMENT,
                        "workspace " + workspace + " has no build to stop")))
                .map(AdminRoutes::rowPayload);
    }

    private Flux<Payload> rows(ByteBuffer data) {
        WorkspaceRequest request = workspaceOf(data);
        int limit = request.getLimit() <= 0 ? DEFAULT_ROWS_LIMIT : Math.min(request.getLimit(), 1000);
        return access.workspace(request.getWorkspace())
                .thenMany(lifecycle.rows(request.getWorkspace(), limit))
                .map(AdminRoutes::rowPayload);
    }

    private Flux<Payload> watch(ByteBuffer data, Scheduler home) {
        String workspace = workspaceOf(data).getWorkspace();
        return access.workspace(workspace).thenMany(lifecycle.watch(workspace).publishOn(home)).map(AdminRoutes::rowPayload);
    }

    private static WorkspaceRequest workspaceOf(ByteBuffer data) {
        WorkspaceRequest request = ProtoCodec.parse(WorkspaceRequest::parseFrom, data, "WorkspaceRequest");
        if (request.getWorkspace().isEmpty()) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "WorkspaceRequest names no workspace");
        }
        return request;
    }

    private static Payload rowPayload(AgentRow row) {
        return DefaultPayload.create(ProtoCodec.encodeRow(row));
    }

    private static Payload payload(byte[] data) {
        return DefaultPayload.create(data);
    }
}
