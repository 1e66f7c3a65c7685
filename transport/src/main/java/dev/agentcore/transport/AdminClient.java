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
import io.rsocket.exceptions.ConnectionCloseException;
import io.rsocket.exceptions.ConnectionErrorException;
import io.rsocket.RSocketErrorException;
import org.reactivestreams.Publisher;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control routes for administrators and tools: workspaces, builds, rows, watch and changes.
 * Given several control planes (replicas on one database), it uses the first that answers and
 * moves to the next when its connection is lost: a read lost before its first answer, and
 * {@link #watch} at any time, go on there; a call that changes something and was in flight when
 * the connection went is not sent twice, it fails saying so.
 */
public final class AdminClient implements Disposable, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminClient.class);
    /** How long {@link #watch} waits between rounds of every address while none answers. */
    private static final Duration WATCH_RETRY_MIN = Duration.ofMillis(200);
    private static final Duration WATCH_RETRY_MAX = Duration.ofSeconds(2);

    /** A connection to one of the addresses. */
    private record Link(RSocket rsocket, int index) {
    }

    private final List<ControlPlaneAddress> addresses;
    private final String adminToken;
    /** The connection calls go through; replaced, by whoever finds it lost first, with one to the next address. */
    private final AtomicReference<Mono<Link>> link;
    /** The address of the latest connection made: where the next search starts after it. */
    private final AtomicInteger lastIndex;
    private volatile boolean disposed;

    private AdminClient(List<ControlPlaneAddress> addresses, String adminToken, Link first) {
        this.addresses = addresses;
        this.adminToken = adminToken;
        this.link = new AtomicReference<>(Mono.just(first));
        this.lastIndex = new AtomicInteger(first.index());
    }

    /** Connects with the admin token. */
    public static Mono<AdminClient> connect(ControlPlaneAddress address, String adminToken) {
        return connect(List.of(Objects.requireNonNull(address, "address")), adminToken);
    }

    /**
     * Connects with the admin token to the first of {@code addresses} that answers, trying them in
     * order; the others are where it goes when that one is lost.
     */
    public static Mono<AdminClient> connect(List<ControlPlaneAddress> addresses, String adminToken) {
        List<ControlPlaneAddress> all = List.copyOf(addresses);
        Objects.requireNonNull(adminToken, "adminToken");
        if (all.isEmpty()) {
            throw new IllegalArgumentException("addresses: at least one");
        }
        return firstAnswering(all, adminToken, 0).map(first -> new AdminClient(all, adminToken, first));
    }

    /** A connection to the first address that accepts one, from {@code from} on and round to the start. */
    private static Mono<Link> firstAnswering(List<ControlPlaneAddress> addresses, String adminToken, int from) {
        return tryFrom(addresses, adminToken, from, 0, new ArrayList<>());
    }

    /** Why no address answered: with one address, its own error, as it was (a caller may explain its kind). */
    private static Throwable unreachable(List<ControlPlaneAddress> addresses, List<Throwable> failures) {
        if (failures.size() == 1) {
            return failures.get(0);
        }
        StringBuilder message = new StringBuilder("no control plane answers:");
        for (int i = 0; i < failures.size(); i++) {
            message.append(i == 0 ? " " : "; ").append(addresses.get(i)).append(": ").append(failures.get(i).getMessage());
        }
        return new ControlPlaneUnreachable(message.toString(), failures.get(0));
    }

    /**
     * The {@code tried}-th attempt, one address after another. Not a Flux cut short by {@code next()}:
     * that cancels the connecting Mono, and the connection it made was then found closed.
     */
    private static Mono<Link> tryFrom(List<ControlPlaneAddress> addresses, String adminToken, int from, int tried,
            List<Throwable> failures) {
        if (tried == addresses.size()) {
            // In the order of the addresses, whichever was tried first.
            List<Throwable> inOrder = new ArrayList<>(failures);
            Collections.rotate(inOrder, from);
            return Mono.error(unreachable(addresses, inOrder));
        }
        int index = (from + tried) % addresses.size();
        return RSocketClients.connect(addresses.get(index), adminToken)
                .map(rsocket -> new Link(rsocket, index))
                .onErrorResume(error -> {
                    failures.add(error);
                    return tryFrom(addresses, adminToken, from, tried + 1, failures);
                });
    }

    /** The connection to use now: the current one, or, once it is lost, one to the next address that answers. */
    private Mono<Link> live() {
        return Mono.defer(() -> {
            if (disposed) {
                return Mono.error(new IllegalStateException("the admin client is closed"));
            }
            Mono<Link> current = link.get();
            return current
                    .onErrorResume(failedBefore -> Mono.empty())
                    .filter(known -> !known.rsocket().isDisposed())
                    .switchIfEmpty(Mono.defer(() -> {
                        int lost = lastIndex.get();
                        Mono<Link> next = firstAnswering(addresses, adminToken, (lost + 1) % addresses.size())
                                .doOnNext(found -> {
                                    lastIndex.set(found.index());
                                    log.warn("lost the control plane at {}: going on through {}", addresses.get(lost),
                                            addresses.get(found.index()));
                                })
                                .cache();
                        // Whoever swaps first connects; the others use its connection.
                        return link.compareAndSet(current, next) ? next : live();
                    }));
        });
    }

    /** Whether the control plane never answered: the connection was lost (an answer, even a refusal, is not). */
    private static boolean lost(Throwable error) {
        return !(error instanceof AgentcoreException) && !(error instanceof RSocketErrorException
                && !(error instanceof ConnectionErrorException) && !(error instanceof ConnectionCloseException))
                && !(error instanceof ControlPlaneUnreachable) && !(error instanceof IllegalStateException);
    }

    /**
     * A request-response on an admin route; a refused SETUP is explained as a wrong admin token.
     * {@code repeatable}: a call whose second sending changes nothing, sent again through the next
     * control plane when the connection is lost before the answer.
     */
    private <T> Mono<T> call(String route, byte[] data, Function<ByteBuffer, T> decoder, boolean repeatable) {
        Mono<T> once = live().flatMap(found -> RSocketClients.requestResponse(found.rsocket(), route, data, decoder)
                .onErrorMap(error -> !repeatable && lost(error), error -> new AgentcoreException(ErrorCode.INTERNAL,
                        "the connection to " + addresses.get(found.index()) + " was lost before it answered " + route
                                + " (" + error + "): it may or may not have been done; look before trying again")));
        return (repeatable ? once.retryWhen(Retry.max(addresses.size()).filter(AdminClient::lost)) : once)
                .onErrorMap(AdminClient::explained);
    }

    /**
     * A request-stream on an admin route, sent again through the next control plane when the
     * connection is lost before its first answer (after one, sending again would repeat or skip rows).
     */
    private <T> Flux<T> stream(String route, byte[] data, Function<ByteBuffer, T> decoder) {
        return Flux.defer(() -> {
            AtomicBoolean answered = new AtomicBoolean();
            return live().flatMapMany(found -> RSocketClients.requestStream(found.rsocket(), route, data, decoder))
                    .doOnNext(item -> answered.set(true))
                    .retryWhen(Retry.max(addresses.size()).filter(error -> !answered.get() && lost(error)));
        }).onErrorMap(AdminClient::explained);
    }

    /** What a refused SETUP means to an admin client: the token it was given is the wrong one. */
    private static Throwable explained(Throwable error) {
        if (error instanceof AgentcoreException refusal && refusal.code() == ErrorCode.UNAUTHENTICATED) {
            return new AgentcoreException(ErrorCode.UNAUTHENTICATED, "the control plane refused the admin token: "
                    + "it is not the deployment's admin token (the first control plane's admin.token, or the one "
                    + "'admin rotate-token' printed)");
        }
        return error;
    }

    /** No address answered a connection. */
    private static final class ControlPlaneUnreachable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ControlPlaneUnreachable(String message, Throwable first) {
            super(message, first, false, false);
        }
    }

    /** Creates a workspace; emits its instance identity, a secret shown only this once. */
    public Mono<String> createWorkspace(Workspace workspace) {
        return call(Routes.WORKSPACES_CREATE, ProtoCodec.encodeCreateWorkspace(workspace), AdminClient::identityOf, false);
    }

    /** The workspace with this name (never its instance identity); INVALID_ARGUMENT if there is none. */
    public Mono<Workspace> workspace(String name) {
        return call(Routes.WORKSPACES_GET, request(name, 0), ProtoCodec::decodeWorkspace, true);
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
        return call(Routes.WORKSPACES_DELETE, request(name, 0), data -> Boolean.TRUE, false).then();
    }

    /**
     * Gives the workspace a new instance identity and emits it (a secret, shown only this once): the
     * old one is refused from then on, and its connections to this control plane are closed.
     */
    public Mono<String> rotateIdentity(String name) {
        return call(Routes.WORKSPACES_ROTATE_IDENTITY, request(name, 0), AdminClient::identityOf, false);
    }

    /**
     * Sets the scripts of the workspace's builds started from now on (an empty {@code Optional}
     * keeps that phase's scripts) and emits the workspace as updated; the rows already started keep
     * the manifest they have. INVALID_ARGUMENT if there is no such workspace.
     */
    public Mono<Workspace> updateScripts(String name, Optional<List<Script>> startupScripts,
            Optional<List<Script>> shutdownScripts) {
        return call(Routes.WORKSPACES_UPDATE_SCRIPTS,
                ProtoCodec.encodeUpdateScripts(name, startupScripts, shutdownScripts), ProtoCodec::decodeWorkspace, false);
    }

    /** Starts a build: a new row at CREATED, with the workspace's scripts as they are now; the previous one is retired. */
    public Mono<AgentRow> startBuild(String workspace) {
        return call(Routes.BUILDS_START, request(workspace, 0), ProtoCodec::decodeRow, false);
    }

    /** Stops the workspace's build: its active row is retired. Emits the row. */
    public Mono<AgentRow> stopBuild(String workspace) {
        return call(Routes.BUILDS_STOP, request(workspace, 0), ProtoCodec::decodeRow, false);
    }

    /** The workspace's rows, latest build first, at most {@code limit}. */
    public Flux<AgentRow> rows(String workspace, int limit) {
        return stream(Routes.ROWS, request(workspace, limit), ProtoCodec::decodeRow);
    }

    /**
     * The workspace's latest row, then every later change; never completes on its own. When the
     * connection is lost it goes on through the next control plane that answers, trying every
     * address in turn (200 ms to 2 s apart) for as long as it is subscribed: rows may then come
     * again, never older ones first ({@link AgentRow#isNewerThan} orders them).
     */
    public Flux<AgentRow> watch(String workspace) {
        return live().flatMapMany(found -> RSocketClients.requestStream(found.rsocket(), Routes.WATCH,
                        request(workspace, 0), ProtoCodec::decodeRow))
                .retryWhen(Retry.backoff(Long.MAX_VALUE, WATCH_RETRY_MIN).maxBackoff(WATCH_RETRY_MAX)
                        .filter(error -> !(error instanceof AgentcoreException) && !(error instanceof IllegalStateException)))
                .onErrorMap(AdminClient::explained);
    }

    /**
     * Gives the deployment a new admin token and emits it (a secret, shown only this once): every
     * control plane on the same store refuses the old one from then on.
     */
    public Mono<String> rotateAdminToken() {
        return call(Routes.ADMIN_ROTATE_TOKEN, new byte[0], data -> ProtoCodec.parse(
                dev.agentcore.transport.proto.v1.AdminTokenResponse::parseFrom, data, "AdminTokenResponse").getAdminToken(),
                false);
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
        return live().flatMapMany(found -> found.rsocket().requestChannel(outbound))
                .onErrorMap(WireErrors::fromWire).onErrorMap(AdminClient::explained);
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
        disposed = true;
        // The connection in use, if one is made or being made; a connection still being made is closed when it is.
        link.get().subscribe(found -> found.rsocket().dispose(), error -> { });
    }

    /** Same as {@link #dispose()}, for try-with-resources. */
    @Override
    public void close() {
        dispose();
    }

    @Override
    public boolean isDisposed() {
        return disposed;
    }
}
