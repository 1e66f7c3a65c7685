package dev.agentcore.transport;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.transport.proto.v1.CreateWorkspaceResponse;
import dev.agentcore.transport.proto.v1.ExchangeRequest;
import dev.agentcore.transport.proto.v1.ExchangeResponse;
import dev.agentcore.transport.proto.v1.WorkspaceRequest;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.util.DefaultPayload;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Serves one connection: routes each request, checks that the connection's principal may use
 * the route, and answers refusals with stable error codes. Nothing a peer sends on one
 * connection reaches another's state except through the services' own checks.
 */
final class ConnectionHandler implements RSocket {

    private static final Logger log = LoggerFactory.getLogger(ConnectionHandler.class);
    private static final int DEFAULT_ROWS_LIMIT = 20;

    private final Principal principal;
    private final ControlPlaneServer server;
    private final LifecycleService lifecycle;
    private final AccessService access;
    private final RowFences fences;
    private final InetAddress source;
    private final ExchangeGuard guard;
    private final ConnectionGate gate;
    private final ConnectionGate.Ticket ticket;
    private final Consumer<ConnectionHandler> onDispose;
    private final AtomicBoolean disposed = new AtomicBoolean();
    private final AtomicInteger streams = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();

    ConnectionHandler(Principal principal, InetAddress source, ControlPlaneServer server, RowFences fences,
                      ExchangeGuard guard, ConnectionGate gate, ConnectionGate.Ticket ticket,
                      Consumer<ConnectionHandler> onDispose) {
        this.principal = principal;
        this.gate = gate;
        this.ticket = ticket;
        this.source = source;
        this.guard = guard;
        this.server = server;
        this.fences = fences;
        this.onDispose = onDispose;
        this.lifecycle = server.lifecycle;
        this.access = server.access;
    }

    /** A request's route and a copy of its data, read before the payload is released. */
    private record Request(String route, ByteBuffer data) {
    }

    private Request read(Payload payload, boolean routed) {
        try {
            int size = payload.data().readableBytes() + payload.metadata().readableBytes();
            if (size > server.maxPayloadBytes) {
                throw new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED, "payload of " + size
                        + " bytes exceeds the limit of " + server.maxPayloadBytes + " bytes");
            }
            String route = routed ? WireMetadata.route(payload.metadata()) : null;
            ByteBuffer source = payload.getData();
            ByteBuffer copy = ByteBuffer.allocate(source.remaining());
            copy.put(source).flip();
            return new Request(route, copy);
        } finally {
            payload.release();
        }
    }

    /**
     * Runs one request within the connection's cap ({@code counter} below {@code max}), refusing
     * it at once past the cap; while it runs the connection is not idle.
     */
    private <T> Flux<T> limited(AtomicInteger counter, int max, ConnectionGate.Refusal refusal, String what,
                                Function<AgentcoreException, Flux<T>> refuse, Flux<T> work) {
        return Flux.defer(() -> {
            if (counter.incrementAndGet() > max) {
                counter.decrementAndGet();
                gate.refused(refusal);
                return refuse.apply(new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED, "more than " + max + " "
                        + what + " at once on one connection"));
            }
            ticket.requestStarted();
            return work.doFinally(signal -> {
                counter.decrementAndGet();
                ticket.requestEnded();
            });
        });
    }

    @Override
    public Mono<Payload> requestResponse(Payload payload) {
        return limited(requests, gate.limits().maxRequestsPerConnection(), ConnectionGate.Refusal.REQUESTS,
                "requests in flight", releasing(payload), respond(payload).flux()).next().onErrorMap(WireErrors::toWire);
    }

    private Mono<Payload> respond(Payload payload) {
        return Mono.defer(() -> {
            Request request = read(payload, true);
            return switch (request.route()) {
                case Routes.EXCHANGE_V2 -> exchangeForConnection(request.data());
                case Routes.EXCHANGE -> exchange(request.data());
                case Routes.MANIFEST -> access.manifest(agent())
                        .map(manifest -> payload(ProtoCodec.encodeManifest(manifest, server.clock.instant())));
                case Routes.WORKSPACES_CREATE -> createWorkspace(request.data());
                case Routes.BUILDS_START -> startBuild(request.data());
                case Routes.BUILDS_STOP -> stopBuild(request.data());
                default -> Mono.error(unknownRoute(request.route(), "request-response"));
            };
        }).doOnError(this::logRefusal).onErrorMap(WireErrors::toWire);
    }

    @Override
    public Flux<Payload> requestStream(Payload payload) {
        return limited(streams, gate.limits().maxStreamsPerConnection(), ConnectionGate.Refusal.STREAMS,
                "streams open", releasing(payload), stream(payload)).onErrorMap(WireErrors::toWire);
    }

    private Flux<Payload> stream(Payload payload) {
        return Flux.defer(() -> {
            Request request = read(payload, true);
            return switch (request.route()) {
                case Routes.MANIFESTS_V2 -> manifests(workspace());
                case Routes.ROWS -> rows(request.data());
                case Routes.WATCH -> watch(request.data());
                case Routes.CHANGES -> changes();
                default -> Flux.error(unknownRoute(request.route(), "request-stream"));
            };
        }).doOnError(this::logRefusal).onErrorMap(WireErrors::toWire);
    }

    @Override
    public Flux<Payload> requestChannel(Publisher<Payload> payloads) {
        return limited(streams, gate.limits().maxStreamsPerConnection(), ConnectionGate.Refusal.STREAMS,
                "streams open", refusal -> refuseThrough(payloads, refusal), channel(payloads))
                .onErrorMap(WireErrors::toWire);
    }

    private static <T> Function<AgentcoreException, Flux<T>> releasing(Payload payload) {
        return refusal -> {
            payload.release();
            return Flux.error(refusal);
        };
    }

    /**
     * Refuses a channel through its inbound: an inbound left unsubscribed would be cancelled by
     * rsocket-java with an error nobody receives (logged as dropped).
     */
    private static Flux<Payload> refuseThrough(Publisher<Payload> payloads, AgentcoreException refusal) {
        return Flux.from(payloads).handle((payload, sink) -> {
            payload.release();
            sink.error(refusal);
        });
    }

    private Flux<Payload> channel(Publisher<Payload> payloads) {
        return Flux.from(payloads).switchOnFirst((first, all) -> {
            if (!first.hasValue()) {
                return Flux.empty();
            }
            AgentcoreException refusal;
            try {
                String route = WireMetadata.route(first.get().metadata());
                if (Routes.LIFECYCLE_V2.equals(route)) {
                    String workspace = workspace();
                    AgentId named = ProtoCodec.decodeBinding(first.get().getData());
                    // Only a refused binding is answered through the inbound here: the channel's own errors
                    // come after it has subscribed to the inbound, which takes one subscriber.
                    return access.bind(workspace, named)
                            .map(agent -> lifecycleChannel(agent, all, true))
                            .onErrorResume(AgentcoreException.class, bindRefused -> Mono.just(refuseThrough(all, bindRefused)))
                            .flatMapMany(channel -> channel);
                }
                if (Routes.LIFECYCLE.equals(route)) {
                    return lifecycleChannel(agent(), all, false);
                }
                if (Routes.ECHO.equals(route) && server.echoRoute) {
                    requireAdmin();
                    return echo(all);
                }
                refusal = unknownRoute(route, "request-channel");
            } catch (AgentcoreException e) {
                refusal = e;
            }
            return refuseThrough(all, refusal);
        }).doOnError(this::logRefusal).onErrorMap(WireErrors::toWire);
    }

    /** Called by rsocket-java when the connection closes. */
    @Override
    public void dispose() {
        if (disposed.compareAndSet(false, true)) {
            onDispose.accept(this);
        }
    }

    @Override
    public boolean isDisposed() {
        return disposed.get();
    }

    // ---- agent routes -------------------------------------------------------------------------

    private Mono<Payload> exchangeForConnection(ByteBuffer data) {
        return guardedExchange(data, identity -> access.exchangeForConnection(identity)
                .map(grant -> payload(ProtoCodec.encodeConnectionGrant(grant.connectionToken(), grant.workspace(),
                        server.clock.instant()))));
    }

    private Mono<Payload> exchange(ByteBuffer data) {
        return guardedExchange(data, identity -> access.exchange(identity)
                .map(grant -> payload(ExchangeResponse.newBuilder()
                        .setSessionToken(grant.sessionToken())
                        .setAgentId(grant.agent().value())
                        .setServerTime(ProtoCodec.timestamp(server.clock.instant()))
                        .build().toByteArray())));
    }

    /** An exchange within the connection's and the address's budgets; a refused identity spends the address's. */
    private Mono<Payload> guardedExchange(ByteBuffer data, Function<String, Mono<Payload>> exchange) {
        if (!ticket.tryExchange()) {
            return Mono.error(new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED, "a connection without a token may make "
                    + gate.limits().anonymousExchanges() + " exchanges: open a new connection"));
        }
        if (source != null && !guard.allows(source)) {
            return Mono.error(new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED,
                    "too many failed exchanges from this address: retry later"));
        }
        ExchangeRequest request = ProtoCodec.parse(ExchangeRequest::parseFrom, data, "ExchangeRequest");
        return exchange.apply(request.getInstanceIdentity())
                .doOnError(AgentcoreException.class, refusal -> {
                    if (refusal.code() == ErrorCode.UNAUTHENTICATED && source != null) {
                        guard.failed(source);
                    }
                });
    }

    /**
     * The workspace's manifests, one per build from the active row on (protocol v2): subscribed to
     * new builds before reading the latest row, so that a build in between is seen by one or the
     * other; only builds later than the last sent go out.
     */
    private Flux<Payload> manifests(String workspace) {
        return Flux.defer(() -> {
            long[] lastSent = {0};
            return Flux.merge(fences.newBuilds(workspace), lifecycle.store().latestRow(workspace))
                    .filter(row -> {
                        if (!row.active() || row.buildNumber() <= lastSent[0]) {
                            return false;
                        }
                        lastSent[0] = row.buildNumber();
                        return true;
                    })
                    .concatMap(access::manifestOf)
                    .map(manifest -> payload(ProtoCodec.encodeManifest(manifest, server.clock.instant())));
        });
    }

    /**
     * One lifecycle channel: the first payload opens it (routing metadata, and in protocol v2 the
     * binding, already read; in v1 usually an empty body, else the first update); every other
     * payload is one update, applied in order and acknowledged. The channel ends with FENCED as
     * soon as a build retires the row.
     */
    private Flux<Payload> lifecycleChannel(AgentId agent, Flux<Payload> payloads, boolean bound) {
        UpdateRateLimit rateLimit = new UpdateRateLimit(server.clock, server.updatesPerSecond, server.updateBurst);
        AtomicBoolean opened = new AtomicBoolean();
        AtomicBoolean fenced = new AtomicBoolean();
        AtomicBoolean superseded = new AtomicBoolean();
        // The chain this channel carries, known from its first update.
        Sinks.One<ChainId> chain = Sinks.one();
        Flux<Payload> acks = payloads.concatMap(payload -> {
            boolean opening = opened.compareAndSet(false, true);
            Request request = read(payload, false);
            if (opening && (bound || !request.data().hasRemaining())) {
                return Mono.empty();
            }
            if (!rateLimit.tryAcquire()) {
                return Mono.error(new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED, "more than "
                        + server.updatesPerSecond + " lifecycle updates per second on one session"));
            }
            LifecycleUpdate update = ProtoCodec.decodeUpdate(request.data());
            return lifecycle.apply(agent, update)
                    .doOnNext(applied -> {
                        Sinks.EmitResult kept = chain.tryEmitValue(update.chain());
                        // The first applied update's chain is the channel's; later ones find it set.
                        if (kept.isFailure() && kept != Sinks.EmitResult.FAIL_TERMINATED) {
                            log.debug("could not note the chain of a lifecycle channel: {}", kept);
                        }
                    })
                    .map(ack -> payload(ProtoCodec.encodeAck(ack)));
        });
        Mono<Void> retired = fences.retired(agent).doOnSuccess(ignored -> fenced.set(true));
        Mono<Void> taken = chain.asMono().flatMap(carried -> fences.takenFrom(agent, carried))
                .doOnSuccess(ignored -> superseded.set(true));
        return acks.takeUntilOther(Mono.firstWithSignal(retired, taken)).concatWith(Mono.defer(() -> {
            if (fenced.get()) {
                return Mono.error(new AgentcoreException(ErrorCode.FENCED, "agent row " + agent
                        + " was retired by a new build: " + (bound ? "bind to the row of the next manifest"
                        : "exchange the instance identity again")));
            }
            if (superseded.get()) {
                return Mono.error(new AgentcoreException(ErrorCode.SUPERSEDED, "agent row " + agent + " was taken "
                        + "by another agent process's chain: stop reporting; two processes must not share one "
                        + "instance identity"));
            }
            return Mono.empty();
        }));
    }

    // ---- admin routes -------------------------------------------------------------------------

    private Mono<Payload> createWorkspace(ByteBuffer data) {
        requireAdmin();
        var workspace = ProtoCodec.decodeCreateWorkspace(data);
        return access.createWorkspace(workspace).map(identity -> payload(CreateWorkspaceResponse.newBuilder()
                .setWorkspace(workspace.name())
                .setInstanceIdentity(identity)
                .build().toByteArray()));
    }

    private Mono<Payload> startBuild(ByteBuffer data) {
        requireAdmin();
        String workspace = workspaceOf(data).getWorkspace();
        return access.workspace(workspace).then(lifecycle.startBuild(workspace)).map(ConnectionHandler::rowPayload);
    }

    private Mono<Payload> stopBuild(ByteBuffer data) {
        requireAdmin();
        String workspace = workspaceOf(data).getWorkspace();
        return access.workspace(workspace)
                .then(lifecycle.stopBuild(workspace).switchIfEmpty(lifecycle.store().latestRow(workspace)))
                .switchIfEmpty(Mono.error(() -> new AgentcoreException(ErrorCode.INVALID_ARGUMENT,
                        "workspace " + workspace + " has no build to stop")))
                .map(ConnectionHandler::rowPayload);
    }

    private Flux<Payload> rows(ByteBuffer data) {
        requireAdmin();
        WorkspaceRequest request = workspaceOf(data);
        int limit = request.getLimit() == 0 ? DEFAULT_ROWS_LIMIT : Math.min(request.getLimit(), 1000);
        return access.workspace(request.getWorkspace())
                .thenMany(lifecycle.store().rows(request.getWorkspace(), limit))
                .map(ConnectionHandler::rowPayload);
    }

    private Flux<Payload> watch(ByteBuffer data) {
        requireAdmin();
        String workspace = workspaceOf(data).getWorkspace();
        return access.workspace(workspace).thenMany(lifecycle.watch(workspace)).map(ConnectionHandler::rowPayload);
    }

    private Flux<Payload> changes() {
        requireAdmin();
        return lifecycle.store().changes().map(ConnectionHandler::rowPayload);
    }

    /** The benchmark baseline: no decoding, no store, no copy; the opening payload is dropped. */
    private static Flux<Payload> echo(Flux<Payload> payloads) {
        // Payloads arrive decoded onto the heap (PayloadDecoder.DEFAULT): wrapping their data copies nothing.
        return payloads.skip(1).map(payload -> DefaultPayload.create(payload.getData()));
    }

    // ---- helpers --------------------------------------------------------------------------------

    private AgentId agent() {
        if (principal instanceof Principal.Agent authenticated) {
            return authenticated.agent();
        }
        throw new AgentcoreException(ErrorCode.UNAUTHENTICATED,
                "this route needs a session token in the SETUP frame: exchange the instance identity first");
    }

    private String workspace() {
        if (principal instanceof Principal.Workspace authenticated) {
            return authenticated.name();
        }
        throw new AgentcoreException(ErrorCode.UNAUTHENTICATED,
                "this route needs a connection token in the SETUP frame: exchange the instance identity on "
                        + Routes.EXCHANGE_V2 + " first");
    }

    private void requireAdmin() {
        if (!(principal instanceof Principal.Admin)) {
            throw new AgentcoreException(ErrorCode.UNAUTHENTICATED,
                    "this route needs the admin token in the SETUP frame");
        }
    }

    private static WorkspaceRequest workspaceOf(ByteBuffer data) {
        WorkspaceRequest request = ProtoCodec.parse(WorkspaceRequest::parseFrom, data, "WorkspaceRequest");
        if (request.getWorkspace().isEmpty()) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "WorkspaceRequest names no workspace");
        }
        return request;
    }

    private static AgentcoreException unknownRoute(String route, String interaction) {
        return new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "unknown route '" + route + "' for " + interaction);
    }

    private static Payload rowPayload(AgentRow row) {
        return payload(ProtoCodec.encodeRow(row));
    }

    private static Payload payload(byte[] data) {
        return DefaultPayload.create(data);
    }

    private void logRefusal(Throwable error) {
        if (error instanceof AgentcoreException refusal) {
            log.debug("refused a request from {}: {}", principal, refusal.toString());
        }
    }
}
