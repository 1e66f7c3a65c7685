package dev.agentcore.transport;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.transport.proto.v1.ExchangeRequest;
import dev.agentcore.transport.proto.v1.ExchangeResponse;
import io.rsocket.Payload;
import io.rsocket.util.DefaultPayload;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * The agents' routes, both protocol versions: the identity exchanges, the manifest (v1) and the
 * manifests stream (v2), and the lifecycle channel, bound to the session token's row (v1) or to
 * the row its first payload names (v2). Every update goes to that row only.
 */
final class AgentRoutes {

    private static final Logger log = LoggerFactory.getLogger(AgentRoutes.class);

    private final AccessService access;
    private final LifecycleService lifecycle;
    private final RowFences fences;
    private final ExchangeGuard guard;
    private final ConnectionGate gate;
    private final ServerSettings settings;
    private final ServerMeters meters;

    AgentRoutes(AccessService access, LifecycleService lifecycle, RowFences fences, ExchangeGuard guard,
                ConnectionGate gate, ServerSettings settings, ServerMeters meters) {
        this.access = access;
        this.lifecycle = lifecycle;
        this.fences = fences;
        this.guard = guard;
        this.gate = gate;
        this.settings = settings;
        this.meters = meters;
    }

    RouteTable.Builder addTo(RouteTable.Builder table) {
        return table
                .response(Routes.EXCHANGE_V2, this::exchangeForConnection)
                .stream(Routes.MANIFESTS_V2, (caller, data) -> manifests(Principal.connectionWorkspace(caller.principal()),
                        caller.home()))
                .channel(Routes.LIFECYCLE_V2, this::boundLifecycle)
                .response(Routes.EXCHANGE, this::exchange)
                .response(Routes.MANIFEST, (caller, data) -> access.manifest(Principal.sessionRow(caller.principal()))
                        .map(manifest -> payload(ProtoCodec.encodeManifest(manifest, settings.clock().instant()))))
                .channel(Routes.LIFECYCLE, (caller, opening, all) ->
                        lifecycleChannel(Principal.sessionRow(caller.principal()), all, false, caller.home()));
    }

    // ---- exchanges --------------------------------------------------------------------------------

    private Mono<Payload> exchangeForConnection(RouteTable.Caller caller, ByteBuffer data) {
        return guardedExchange(caller, data, identity -> access.exchangeForConnection(identity)
                .map(grant -> payload(ProtoCodec.encodeConnectionGrant(grant.connectionToken(), grant.workspace(),
                        settings.clock().instant()))));
    }

    private Mono<Payload> exchange(RouteTable.Caller caller, ByteBuffer data) {
        return guardedExchange(caller, data, identity -> access.exchange(identity)
                .map(grant -> payload(ExchangeResponse.newBuilder()
                        .setSessionToken(grant.sessionToken())
                        .setAgentId(grant.agentId().value())
                        .setServerTime(ProtoCodec.timestamp(settings.clock().instant()))
                        .build().toByteArray())));
    }

    /** An exchange within the connection's and the address's budgets; a refused identity spends the address's. */
    private Mono<Payload> guardedExchange(RouteTable.Caller caller, ByteBuffer data,
                                          Function<String, Mono<Payload>> exchange) {
        if (!caller.ticket().tryExchange()) {
            meters.exchangeLimited();
            return Mono.error(new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED, "a connection without a token may make "
                    + gate.limits().anonymousExchanges() + " exchanges: open a new connection"));
        }
        if (caller.source() != null && !guard.allows(caller.source())) {
            meters.exchangeLimited();
            return Mono.error(new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED,
                    "too many failed exchanges from this address: retry later"));
        }
        ExchangeRequest request = ProtoCodec.parse(ExchangeRequest::parseFrom, data, "ExchangeRequest");
        return exchange.apply(request.getInstanceIdentity())
                .doOnSuccess(granted -> meters.exchangeGranted())
                .doOnError(AgentcoreException.class, refusal -> {
                    if (refusal.code() == ErrorCode.UNAUTHENTICATED) {
                        meters.exchangeRefused();
                        if (caller.source() != null) {
                            guard.failed(caller.source());
                        }
                    }
                });
    }

    // ---- manifests --------------------------------------------------------------------------------

    /**
     * The workspace's manifests, one per build from the active row on (protocol v2): subscribed to
     * new builds before reading the latest row, so that a build in between is seen by one or the
     * other; only builds later than the last sent go out. New builds are announced on the
     * connection's {@code home} thread, not on the thread that published them.
     */
    private Flux<Payload> manifests(String workspace, Scheduler home) {
        return Flux.defer(() -> {
            long[] lastSent = {0};
            // One build at a time: a prefetch of one keeps the hand-over's queue at one slot for the
            // connection's whole life (the waiter buffers the rare burst).
            return Flux.merge(fences.newBuilds(workspace).publishOn(home, 1), lifecycle.latestRow(workspace))
                    .filter(row -> {
                        if (!row.active() || row.buildNumber() <= lastSent[0]) {
                            return false;
                        }
                        lastSent[0] = row.buildNumber();
                        return true;
                    })
                    .concatMap(access::manifestOf)
                    .map(manifest -> payload(ProtoCodec.encodeManifest(manifest, settings.clock().instant())));
        });
    }

    // ---- lifecycle channels -----------------------------------------------------------------------

    /** Protocol v2: the channel's first payload names the row; a binding the workspace may not make is FENCED. */
    private Flux<Payload> boundLifecycle(RouteTable.Caller caller, Payload opening, Flux<Payload> all) {
        String workspace = Principal.connectionWorkspace(caller.principal());
        AgentId named = ProtoCodec.decodeBinding(opening.getData());
        // A binding that fails (refused, or the store failing to check it) is answered through the
        // inbound here; the channel's own errors come after it has subscribed to the inbound, which
        // takes one subscriber.
        return access.bind(workspace, named)
                .map(agentId -> lifecycleChannel(agentId, all, true, caller.home()))
                .onErrorResume(failed -> Mono.just(ConnectionHandler.refuseThrough(all, failed, caller.home())))
                // flatMapMany holds its source for the channel's life: let go of the binding's chain.
                .onTerminateDetach()
                .flatMapMany(channel -> channel);
    }

    /**
     * One lifecycle channel: the first payload opens it (routing metadata, and in protocol v2 the
     * binding, already read; in v1 usually an empty body, else the first update); every other
     * payload is one update, applied in order and acknowledged. The channel ends with FENCED as
     * soon as a build retires the row, and with SUPERSEDED when another process's chain takes it;
     * either ending runs on the connection's {@code home} thread, not on the thread that published
     * the row's change.
     */
    private Flux<Payload> lifecycleChannel(AgentId agentId, Flux<Payload> payloads, boolean bound, Scheduler home) {
        UpdateRateLimit rateLimit = new UpdateRateLimit(settings.nanoTime(), settings.updatesPerSecond(),
                settings.updateBurst());
        AtomicBoolean opened = new AtomicBoolean();
        AtomicBoolean fenced = new AtomicBoolean();
        AtomicBoolean superseded = new AtomicBoolean();
        // The chain this channel carries, known from its first update.
        Sinks.One<ChainId> chain = Sinks.one();
        Flux<Payload> acks = payloads.concatMap(payload -> {
            boolean opening = opened.compareAndSet(false, true);
            LifecycleUpdate update;
            try {
                ConnectionHandler.checkSize(payload, settings.maxPayloadBytes());
                if (opening && (bound || payload.data().readableBytes() == 0)) {
                    return Mono.empty();
                }
                if (!rateLimit.tryAcquire()) {
                    return Mono.error(new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED, "more than "
                            + settings.updatesPerSecond() + " lifecycle updates per second on one session"));
                }
                // Decoded from the payload's buffer as rsocket-java handed it over (its one copy of the
                // frame's data, PayloadDecoder.DEFAULT), before it is released: no second copy.
                update = ProtoCodec.decodeUpdate(payload.getData());
            } finally {
                payload.release();
            }
            return lifecycle.apply(agentId, update)
                    .doOnNext(applied -> {
                        Sinks.EmitResult kept = chain.tryEmitValue(update.chain());
                        // The first applied update's chain is the channel's; later ones find it set.
                        if (kept.isFailure() && kept != Sinks.EmitResult.FAIL_TERMINATED) {
                            log.debug("could not note the chain of a lifecycle channel: {}", kept);
                        }
                    })
                    .map(ack -> payload(ProtoCodec.encodeAck(ack)))
                    // concatMap keeps its last inner subscribed until the next update: an idle agent's
                    // channel would hold its last update's whole chain for as long as it is idle.
                    .onTerminateDetach();
        });
        Mono<Void> retired = fences.retired(agentId).doOnSuccess(ignored -> fenced.set(true));
        Mono<Void> taken = chain.asMono().flatMap(carried -> fences.takenFrom(agentId, carried))
                .doOnSuccess(ignored -> superseded.set(true));
        return acks.takeUntilOther(Mono.firstWithSignal(retired, taken).publishOn(home)).concatWith(Mono.defer(() -> {
            if (fenced.get()) {
                meters.fenced();
                return Mono.error(new AgentcoreException(ErrorCode.FENCED, "agent row " + agentId
                        + " was retired by a new build: " + (bound ? "bind to the row of the next manifest"
                        : "exchange the instance identity again")));
            }
            if (superseded.get()) {
                meters.superseded();
                return Mono.error(new AgentcoreException(ErrorCode.SUPERSEDED, "agent row " + agentId + " was taken "
                        + "by another agent process's chain: stop reporting; two processes must not share one "
                        + "instance identity"));
            }
            return Mono.empty();
        })).doOnSubscribe(subscription -> meters.channelOpened(agentId)).doFinally(signal -> meters.channelClosed(agentId));
    }

    private static Payload payload(byte[] data) {
        return DefaultPayload.create(data);
    }
}
