package dev.agentcore.transport;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import io.rsocket.Payload;
import io.rsocket.RSocket;
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
import reactor.core.publisher.Operators;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.util.context.Context;

/**
 * Serves one connection: holds it to its caps on streams and requests, reads each request's route
 * and hands it to the route table's handler, and answers refusals with stable error codes. What
 * a route may do for which principal is the handler's to check; nothing a peer sends on one
 * connection reaches another's state except through the services' own checks.
 */
final class ConnectionHandler implements RSocket, RouteTable.Caller {

    private static final Logger log = LoggerFactory.getLogger(ConnectionHandler.class);

    /** Who authenticated; an admin becomes {@link Principal.RotatedAdmin} when the admin token is rotated. */
    private volatile Principal principal;
    /** Whether this connection asked for the admin token's rotation (see {@link #rotatesTheAdminToken()}). */
    private volatile boolean rotatingAdminToken;
    /** An admin connection's: completes when its token is rotated, and its streams and channels end. Null for others. */
    private final Sinks.Empty<Void> adminTokenRotated;
    private final InetAddress source;
    private final RouteTable routes;
    private final ServerSettings settings;
    private final ConnectionGate gate;
    private final ConnectionGate.Ticket ticket;
    private final Scheduler home;
    private final Consumer<ConnectionHandler> onDispose;
    private final AtomicBoolean disposed = new AtomicBoolean();
    /** Made when {@link #onClose()} is first asked for (when the server stops), not for every connection. */
    private Sinks.Empty<Void> closed;
    /** Whether the connection has closed and is untracked; guarded by this handler's lock, with {@link #closed}. */
    private boolean ended;
    private final AtomicInteger streams = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();

    ConnectionHandler(Principal principal, InetAddress source, RouteTable routes, ServerSettings settings,
                      ConnectionGate gate, ConnectionGate.Ticket ticket, Scheduler home,
                      Consumer<ConnectionHandler> onDispose) {
        this.principal = principal;
        // Only an admin connection needs it: thousands of agents' connections hold nothing for it.
        this.adminTokenRotated = principal instanceof Principal.Admin ? Sinks.empty() : null;
        this.source = source;
        this.routes = routes;
        this.settings = settings;
        this.gate = gate;
        this.ticket = ticket;
        this.home = home;
        this.onDispose = onDispose;
    }

    @Override
    public Principal principal() {
        return principal;
    }

    @Override
    public void rotatesTheAdminToken() {
        rotatingAdminToken = true;
    }

    /** Whether this connection asked for the admin token's rotation, and so is to be kept open for the answer. */
    boolean askedToRotateTheAdminToken() {
        return rotatingAdminToken;
    }

    /**
     * The admin token this connection authenticated with was rotated: from now on every request
     * on it is refused UNAUTHENTICATED, and the streams and channels it opened as the admin end
     * with that refusal.
     */
    void adminTokenRotated() {
        if (adminTokenRotated == null) {
            throw new IllegalStateException("not an admin connection: " + principal);
        }
        principal = new Principal.RotatedAdmin();
        Sinks.EmitResult ended = adminTokenRotated.tryEmitEmpty();
        // Rotations are handled one at a time, so the only failure is a second rotation: already ended.
        if (ended.isFailure() && ended != Sinks.EmitResult.FAIL_TERMINATED) {
            log.warn("could not end the admin streams of a connection whose admin token was rotated: {}", ended);
        }
    }

    /** What an admin opened on this connection ends when the admin token is rotated. */
    private <T> Flux<T> untilAdminTokenRotated(Principal openedAs, Flux<T> work) {
        if (!(openedAs instanceof Principal.Admin)) {
            return work;
        }
        return work.takeUntilOther(adminTokenRotated.asMono())
                .concatWith(Flux.defer(() -> principal instanceof Principal.RotatedAdmin
                        ? Flux.error(Principal.adminTokenRotated())
                        : Flux.empty()));
    }

    @Override
    public InetAddress source() {
        return source;
    }

    @Override
    public ConnectionGate.Ticket ticket() {
        return ticket;
    }

    @Override
    public Scheduler home() {
        return home;
    }

    /** A request-response's or request-stream's route and a copy of its data, read before the payload is released. */
    private record Request(String route, ByteBuffer data) {
    }

    /** Reads and releases the payload; RESOURCE_EXHAUSTED past the payload limit. */
    private Request read(Payload payload) {
        try {
            String route = route(payload);
            ByteBuffer source = payload.getData();
            ByteBuffer copy = ByteBuffer.allocate(source.remaining());
            copy.put(source).flip();
            return new Request(route, copy);
        } finally {
            payload.release();
        }
    }

    /** A request's route, read from its metadata (within the payload limit); the payload is left as it is. */
    private String route(Payload payload) {
        checkSize(payload, settings.maxPayloadBytes());
        return WireMetadata.route(payload.metadata());
    }

    /** RESOURCE_EXHAUSTED if the payload's data and metadata together pass the limit. */
    static void checkSize(Payload payload, int maxPayloadBytes) {
        int size = payload.data().readableBytes() + payload.metadata().readableBytes();
        if (size > maxPayloadBytes) {
            throw new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED, "payload of " + size
                    + " bytes exceeds the limit of " + maxPayloadBytes + " bytes");
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
                "requests in flight", releasing(payload), respond(payload).flux()).next().onErrorMap(WireErrors::toWire)
                .contextWrite(ConnectionHandler::releasingDiscards);
    }

    private Mono<Payload> respond(Payload payload) {
        return Mono.defer(() -> {
            Request request = read(payload);
            RouteTable.ResponseRoute handler = routes.response(request.route());
            return handler == null ? Mono.error(unknownRoute(request.route(), "request-response"))
                    : handler.respond(this, request.data());
        }).doOnError(this::logRefusal).onErrorMap(WireErrors::toWire);
    }

    @Override
    public Flux<Payload> requestStream(Payload payload) {
        return limited(streams, gate.limits().maxStreamsPerConnection(), ConnectionGate.Refusal.STREAMS,
                "streams open", releasing(payload), stream(payload)).onErrorMap(this::refusedOnTheWire)
                .contextWrite(ConnectionHandler::releasingDiscards);
    }

    private Flux<Payload> stream(Payload payload) {
        return Flux.defer(() -> {
            Request request = read(payload);
            RouteTable.StreamRoute handler = routes.stream(request.route());
            return handler == null ? Flux.error(unknownRoute(request.route(), "request-stream"))
                    : untilAdminTokenRotated(principal, handler.stream(this, request.data()));
        });
    }

    @Override
    public Flux<Payload> requestChannel(Publisher<Payload> payloads) {
        return limited(streams, gate.limits().maxStreamsPerConnection(), ConnectionGate.Refusal.STREAMS,
                "streams open", refusal -> refuseThrough(payloads, refusal, home), channel(payloads))
                .onErrorMap(this::refusedOnTheWire).contextWrite(ConnectionHandler::releasingDiscards);
    }

    /**
     * Logs a refusal (at debug) and maps it to its wire form: one operator for both on a stream or
     * a channel, which lasts as long as the connection (each operator is held for its whole life).
     */
    private Throwable refusedOnTheWire(Throwable error) {
        logRefusal(error);
        return WireErrors.toWire(error);
    }

    /**
     * Replaces rsocket-java's discard hook for our handlers: it casts every discarded element to
     * {@link ReferenceCounted} and catches the ClassCastException, a stack trace for each row, ack
     * or signal our operators discard (an eighth of the control plane's CPU at a build boundary).
     * This one releases what is reference counted and ignores the rest.
     */
    private static Context releasingDiscards(Context context) {
        return Operators.enableOnDiscard(context, RELEASE_DISCARDED);
    }

    private static final Consumer<Object> RELEASE_DISCARDED = discarded -> {
        if (discarded instanceof ReferenceCounted counted && counted.refCnt() > 0) {
            ReferenceCountUtil.safeRelease(counted);
        }
    };

    private static <T> Function<AgentcoreException, Flux<T>> releasing(Payload payload) {
        return refusal -> {
            payload.release();
            return Flux.error(refusal);
        };
    }

    /**
     * Refuses a channel through its inbound: its first payload is taken and released, which
     * cancels the inbound, and the refusal follows on the connection's {@code home} thread.
     * rsocket-java hands a channel its first payload from inside its own bookkeeping: a channel
     * that ends there, in the same call, is sent an error of rsocket-java's own into its inbound
     * once that returns, after our operators have ended; Reactor drops it and logs it with its
     * stack trace, once per refused channel, as often as a peer likes. Ended later, with the
     * inbound already cancelled, nothing is sent into it.
     */
    static Flux<Payload> refuseThrough(Publisher<Payload> payloads, Throwable refusal, Scheduler home) {
        return Flux.from(payloads).take(1).doOnNext(Payload::release)
                .thenMany(Flux.<Payload>error(refusal).subscribeOn(home));
    }

    private Flux<Payload> channel(Publisher<Payload> payloads) {
        return Flux.from(payloads).switchOnFirst((first, all) -> {
            if (!first.hasValue()) {
                return Flux.empty();
            }
            AgentcoreException refusal;
            try {
                String route = route(first.get());
                RouteTable.ChannelRoute handler = routes.channel(route);
                if (handler != null) {
                    return untilAdminTokenRotated(principal, handler.channel(this, first.get(), all));
                }
                refusal = unknownRoute(route, "request-channel");
            } catch (AgentcoreException e) {
                refusal = e;
            }
            return refuseThrough(all, refusal, home);
        });
    }

    /** Called by rsocket-java when the connection closes. */
    @Override
    public void dispose() {
        if (disposed.compareAndSet(false, true)) {
            onDispose.accept(this);
            Sinks.Empty<Void> waiting;
            synchronized (this) {
                ended = true;
                waiting = closed;
            }
            if (waiting != null) {
                Sinks.EmitResult result = waiting.tryEmitEmpty();
                // Only this call, once, emits: the compareAndSet above lets one caller through.
                if (result.isFailure()) {
                    log.warn("could not note that a connection closed: {}", result);
                }
            }
        }
    }

    /** Completes once the connection has closed and is no longer tracked. */
    @Override
    public Mono<Void> onClose() {
        synchronized (this) {
            if (ended) {
                return Mono.empty();
            }
            if (closed == null) {
                closed = Sinks.empty();
            }
            return closed.asMono();
        }
    }

    @Override
    public boolean isDisposed() {
        return disposed.get();
    }

    private static AgentcoreException unknownRoute(String route, String interaction) {
        return new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "unknown route '" + route + "' for " + interaction);
    }

    private void logRefusal(Throwable error) {
        if (error instanceof AgentcoreException refusal) {
            log.debug("refused a request from {}: {}", principal, refusal.toString());
        }
    }
}
