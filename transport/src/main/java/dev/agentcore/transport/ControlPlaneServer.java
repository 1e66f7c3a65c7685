package dev.agentcore.transport;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.LifecycleService;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.SocketAcceptor;
import io.rsocket.core.RSocketServer;
import io.rsocket.frame.decoder.PayloadDecoder;
import io.rsocket.transport.netty.server.CloseableChannel;
import io.rsocket.transport.netty.server.TcpServerTransport;
import io.rsocket.transport.netty.server.WebsocketServerTransport;
import io.rsocket.transport.ServerTransport.ConnectionAcceptor;
import com.sun.management.UnixOperatingSystemMXBean;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Map;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongSupplier;
import reactor.core.publisher.Flux;
import java.util.function.BiFunction;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.Disposables;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import io.netty.handler.ssl.SslContext;
import reactor.netty.http.server.HttpServer;
import reactor.netty.tcp.TcpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane over RSocket: serves {@link LifecycleService} and {@link AccessService} on
 * TCP and/or WebSocket, with the routes of {@link Routes}.
 *
 * <p>A SETUP frame's bearer token is checked before anything else: the admin token, a connection
 * token bound to a workspace (protocol v2) or a session token bound to one agent row (v1). A bad
 * token is refused with REJECTED_SETUP; a SETUP without one opens a connection on which only the
 * exchanges answer, a few times, for a short while. Every connection is held to limits from its accept on (a SETUP deadline, keepalive
 * bounds, caps on unauthenticated connections per address and in total, streams and requests per
 * connection; see the Builder), so peers that never authenticate cannot lock out those that do.
 *
 * <pre>{@code
 * RunningControlPlane running = ControlPlaneServer.builder(lifecycle, access)
 *         .tcp("127.0.0.1", 0)
 *         .adminToken(adminToken)
 *         .build()
 *         .start()
 *         .block();
 * InetSocketAddress bound = running.tcpAddress();
 * }</pre>
 */
public final class ControlPlaneServer {

    private static final Logger log = LoggerFactory.getLogger(ControlPlaneServer.class);

    /** The default limit on one payload's data plus metadata. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;

    private final LifecycleService lifecycle;
    private final AccessService access;
    private final ServerSettings settings;
    private final double exchangeFailuresPerSecond;
    private final int exchangeFailureBurst;
    /** Made the deployment's admin token at start if its store has none; null: none given. */
    private final String adminToken;
    private final InetSocketAddress tcp;
    private final InetSocketAddress websocket;
    /** Netty's TLS context for both listeners, read from the files when the server was built; null: plaintext. */
    private final SslContext tls;
    private final ConnectionLimits limits;
    private final Scheduler scheduler;
    private final MeterRegistry meters;
    /** One per server, not per start: a gauge registered twice keeps its first state object. */
    private final ServerMeters serverMeters;

    private ControlPlaneServer(Builder builder) {
        this.lifecycle = builder.lifecycle;
        this.access = builder.access;
        this.settings = new ServerSettings(builder.clock, builder.nanoTime, builder.maxPayloadBytes, builder.updatesPerSecond,
                builder.updateBurst, builder.adminChannelRoutes);
        this.exchangeFailuresPerSecond = builder.exchangeFailuresPerSecond;
        this.exchangeFailureBurst = builder.exchangeFailureBurst;
        this.adminToken = builder.adminToken;
        this.tcp = builder.tcp;
        this.websocket = builder.websocket;
        this.tls = builder.tls == null ? null : builder.tls.sslContext();
        this.limits = new ConnectionLimits(builder.maxConnections, builder.maxUnauthenticated,
                builder.maxUnauthenticatedPerAddress, builder.setupTimeout, builder.minKeepAliveInterval,
                builder.maxKeepAliveInterval, builder.maxKeepAliveLifetime, builder.anonymousExchanges,
                builder.anonymousIdle, builder.anonymousLifetime, builder.maxStreamsPerConnection,
                builder.maxRequestsPerConnection);
        this.scheduler = builder.scheduler;
        this.meters = builder.meters;
        this.serverMeters = new ServerMeters(meters);
    }

    /** Starts configuring a server for these services. */
    public static Builder builder(LifecycleService lifecycle, AccessService access) {
        return new Builder(lifecycle, access);
    }

    private Mono<RSocket> accept(io.rsocket.ConnectionSetupPayload setup, RSocket peer, SetupAuthenticator authenticator,
                                 RouteTable routes, ConnectionGate gate, NettyGate.Admission admission, InetAddress source,
                                 OpenConnections connections, AtomicLong adminTokenRotations) {
        // Read before the token is checked: a rotation of the admin token after this moment ends the connection.
        long rotationsBefore = adminTokenRotations.get();
        return authenticator.authenticate(setup).<RSocket>map(principal -> {
            // Tracked so that stopping the control plane ends every session, not only the listeners;
            // rsocket-java disposes the handler when its connection closes, which untracks it.
            ConnectionHandler handler = new ConnectionHandler(principal, source, routes, settings, gate,
                    admission.ticket(), admission.home(), connections::untrack);
            // A refused handler is disposed, not only untracked: a stop that saw it tracked waits for it.
            if (!connections.track(handler, peer)) {
                throw new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED, "the control plane is stopping: retry later");
            }
            // Checked once it is tracked: a rotation of the admin token either finds it (and closes it)
            // or has counted itself before this check (the rotation counts before it looks).
            if (principal instanceof Principal.Admin && adminTokenRotations.get() != rotationsBefore) {
                handler.dispose();
                throw Principal.adminTokenRotated();
            }
            if (!admission.ticket().established(principal instanceof Principal.Anonymous
                    ? ConnectionGate.Stage.ANONYMOUS : ConnectionGate.Stage.AUTHENTICATED)) {
                handler.dispose();
                throw new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED, "the connection was closed before its SETUP was accepted");
            }
            return handler;
        }).onErrorMap(WireErrors::rejectedSetup)
                // rsocket-java keeps the subscriber of this Mono for the connection's life: once it has
                // answered, let go of the SETUP's chain (what it captured: the presented token's hash, ...).
                .onTerminateDetach();
    }

    /**
     * Binds every configured listener; emits the running server once all are bound. First, the
     * admin token given to the builder becomes the deployment's if the store has none yet.
     */
    public Mono<RunningControlPlane> start() {
        return initializeAdminToken().then(bind());
    }

    private Mono<Void> initializeAdminToken() {
        if (adminToken == null) {
            return Mono.empty();
        }
        return access.initializeAdminToken(adminToken)
                .flatMap(set -> set ? Mono.<Boolean>empty() : access.isAdminToken(adminToken))
                .doOnNext(same -> {
                    if (!same) {
                        log.warn("the admin token this control plane was given is not the deployment's: its store "
                                + "already has one (set by the control plane that started first, or by a rotation), "
                                + "and only that one opens the control routes");
                    }
                })
                .then();
    }

    private Mono<RunningControlPlane> bind() {
        return Mono.defer(() -> {
            ConnectionLimits effective = limits.within(openFileLimit());
            if (effective != limits) {
                log.warn("the open-file limit ({}) lowers the connection limits to {} in total, {} unauthenticated, "
                        + "{} unauthenticated per address", openFileLimit(), effective.maxConnections(),
                        effective.maxUnauthenticated(), effective.maxUnauthenticatedPerAddress());
            }
            ConnectionGate gate = new ConnectionGate(effective, scheduler, meters);
            NettyGate tcpGate = new NettyGate(gate, "tcp", true);
            NettyGate wsGate = new NettyGate(gate, "ws", false);
            RowFences fences = new RowFences(lifecycle);
            ExchangeGuard guard = new ExchangeGuard(settings.nanoTime(), exchangeFailuresPerSecond, exchangeFailureBurst);
            SetupAuthenticator authenticator = new SetupAuthenticator(access, gate);
            RouteTable routes = new AdminRoutes(access, lifecycle, settings).addTo(
                    new AgentRoutes(access, lifecycle, fences, guard, gate, settings, serverMeters).addTo(RouteTable.builder())).build();
            OpenConnections connections = new OpenConnections();
            AtomicLong adminTokenRotations = new AtomicLong();
            // A fresh RSocketServer (a configuration object) per connection, so that the acceptor
            // knows the peer's address and its place in the gate: rsocket-java's SocketAcceptor is not told them.
            BiFunction<NettyGate, Integer, ConnectionAcceptor> acceptor = (nettyGate, maxFrameLength) -> connection -> {
                NettyGate.Admission admission = nettyGate.admission(connection.remoteAddress());
                if (admission == null) {
                    // Refused by the gate as it was accepted: its channel is being closed there, after the refusal is read.
                    return Mono.empty();
                }
                InetAddress source = connection.remoteAddress() instanceof InetSocketAddress inet ? inet.getAddress() : null;
                return RSocketServer.create((SocketAcceptor) (setup, peer) ->
                                accept(setup, peer, authenticator, routes, gate, admission, source, connections,
                                        adminTokenRotations))
                        // Each payload's data copied to the heap: reading the frame's own buffer instead
                        // (ZERO_COPY) was measured no faster (bench/RESULTS.md, 2026-11-30).
                        .payloadDecoder(PayloadDecoder.DEFAULT)
                        .interceptors(registry -> registry.forConnection(AnswerOnlyKeepAlive.INSTANCE))
                        .asConnectionAcceptor(maxFrameLength)
                        .apply(connection);
            };
            // A frame far past the payload limit is cut at the transport, ending only that connection.
            int maxFrame = Math.max(settings.maxPayloadBytes() * 4, 256 * 1024);
            warnIfPlaintextBeyondLoopback(tcp, "tcp");
            warnIfPlaintextBeyondLoopback(websocket, "websocket");
            TcpServer tcpServer = tcp == null ? null
                    : TcpServer.create().host(tcp.getHostString()).port(tcp.getPort()).doOnChannelInit(tcpGate);
            Mono<Optional<CloseableChannel>> tcpChannel = tcp == null ? Mono.just(Optional.empty())
                    : TcpServerTransport.create(tls == null ? tcpServer : tcpServer.secure(spec -> spec.sslContext(tls)),
                                    maxFrame)
                            .start(acceptor.apply(tcpGate, maxFrame)).map(Optional::of);
            HttpServer httpServer = websocket == null ? null
                    : HttpServer.create().host(websocket.getHostString()).port(websocket.getPort()).doOnChannelInit(wsGate);
            WebsocketServerTransport ws = websocket == null ? null
                    : WebsocketServerTransport.create(tls == null ? httpServer : httpServer.secure(spec -> spec.sslContext(tls)));
            Mono<Optional<CloseableChannel>> wsChannel = ws == null ? Mono.just(Optional.empty())
                    : ws.start(acceptor.apply(wsGate, ws.maxFrameLength())).map(Optional::of);
            Disposable watches = Disposables.composite(fences, endRevoked(connections, adminTokenRotations));
            return Mono.zip(tcpChannel, wsChannel)
                    .map(bound -> new RunningControlPlane(bound.getT1().orElse(null), bound.getT2().orElse(null),
                            connections, watches, serverMeters))
                    .doOnError(error -> watches.dispose());
        });
    }

    /**
     * Ends the connections that credentials revoked here authenticated: a workspace's (a new
     * identity, or deleted: a v2 connection authenticated for it, a v1 connection of one of its
     * rows) are closed; when the admin token is rotated, every admin connection is closed but the
     * one that asked, which must receive the new token and is refused everything after it.
     */
    private Disposable endRevoked(OpenConnections connections, AtomicLong adminTokenRotations) {
        return access.revocations()
                .concatMap(revocation -> revocation instanceof AccessService.Revocation.WorkspaceCredentials workspace
                        ? closeWorkspace(connections, workspace.workspace())
                        : Mono.fromRunnable(() -> endAdminConnections(connections, adminTokenRotations)))
                .subscribe();
    }

    private Mono<Void> closeWorkspace(OpenConnections connections, String workspace) {
        return Flux.fromIterable(connections.snapshot())
                .filterWhen(connection -> belongsTo(connection.getKey().principal(), workspace))
                .doOnNext(connection -> connection.getValue().dispose())
                .count()
                .doOnNext(closed -> log.info("closed {} connection(s) of workspace {}: its credentials were revoked",
                        closed, workspace))
                .onErrorResume(error -> {
                    log.warn("could not close the connections of workspace {}: {}", workspace, error.toString());
                    return Mono.empty();
                })
                .then();
    }

    private static void endAdminConnections(OpenConnections connections, AtomicLong adminTokenRotations) {
        // First, so that a connection whose SETUP is being checked against the old token right now is refused.
        adminTokenRotations.incrementAndGet();
        int closed = 0;
        int kept = 0;
        for (Map.Entry<ConnectionHandler, RSocket> connection : connections.snapshot()) {
            ConnectionHandler handler = connection.getKey();
            if (!(handler.principal() instanceof Principal.Admin)) {
                continue;
            }
            handler.adminTokenRotated();
            if (handler.askedToRotateTheAdminToken()) {
                kept++;
            } else {
                connection.getValue().dispose();
                closed++;
            }
        }
        log.info("the admin token was rotated: {} admin connection(s) closed, {} kept open for the answer to the "
                + "rotation (refused everything after it)", closed, kept);
    }

    private Mono<Boolean> belongsTo(Principal principal, String workspace) {
        if (principal instanceof Principal.Workspace connected) {
            return Mono.just(connected.name().equals(workspace));
        }
        if (principal instanceof Principal.Agent agent) {
            return lifecycle.row(agent.agentId()).map(row -> row.workspace().equals(workspace)).defaultIfEmpty(false);
        }
        return Mono.just(false);
    }

    /** Bearer tokens and identities would cross the network readable by anyone on the path. */
    private void warnIfPlaintextBeyondLoopback(InetSocketAddress listener, String what) {
        if (listener != null && tls == null && !isLoopback(listener.getHostString())) {
            log.warn("the {} listener on {}:{} is not loopback and has no TLS: tokens and instance identities cross "
                    + "the network in cleartext; configure TLS (ServerTls, or --tls-cert and --tls-key)",
                    what, listener.getHostString(), listener.getPort());
        }
    }

    private static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            // Only literal addresses are looked at: a name is never resolved here.
            return host.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':')
                    && InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /** The process's open-file limit where the JVM can tell it; 0 where it cannot. */
    private static long openFileLimit() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
                ? unix.getMaxFileDescriptorCount() : 0;
    }

    /** Configures a {@link ControlPlaneServer}; at least one of {@link #tcp} and {@link #websocket} is needed. */
    public static final class Builder {

        private final LifecycleService lifecycle;
        private final AccessService access;
        private Clock clock = Clock.systemUTC();
        private LongSupplier nanoTime = System::nanoTime;
        private InetSocketAddress tcp;
        private InetSocketAddress websocket;
        private ServerTls tls;
        private String adminToken;
        private int maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
        private int updatesPerSecond = 50;
        private int updateBurst = 100;
        private double exchangeFailuresPerSecond = 1;
        private int exchangeFailureBurst = 20;
        private final Map<String, Function<Flux<Payload>, Flux<Payload>>> adminChannelRoutes = new LinkedHashMap<>();
        private int maxConnections = ConnectionLimits.DEFAULTS.maxConnections();
        private int maxUnauthenticated = ConnectionLimits.DEFAULTS.maxUnauthenticated();
        private int maxUnauthenticatedPerAddress = ConnectionLimits.DEFAULTS.maxUnauthenticatedPerAddress();
        private Duration setupTimeout = ConnectionLimits.DEFAULTS.setupTimeout();
        private Duration minKeepAliveInterval = ConnectionLimits.DEFAULTS.minKeepAliveInterval();
        private Duration maxKeepAliveInterval = ConnectionLimits.DEFAULTS.maxKeepAliveInterval();
        private Duration maxKeepAliveLifetime = ConnectionLimits.DEFAULTS.maxKeepAliveLifetime();
        private int anonymousExchanges = ConnectionLimits.DEFAULTS.anonymousExchanges();
        private Duration anonymousIdle = ConnectionLimits.DEFAULTS.anonymousIdle();
        private Duration anonymousLifetime = ConnectionLimits.DEFAULTS.anonymousLifetime();
        private int maxStreamsPerConnection = ConnectionLimits.DEFAULTS.maxStreamsPerConnection();
        private int maxRequestsPerConnection = ConnectionLimits.DEFAULTS.maxRequestsPerConnection();
        private Scheduler scheduler = Schedulers.parallel();
        private MeterRegistry meters = new SimpleMeterRegistry();

        private Builder(LifecycleService lifecycle, AccessService access) {
            this.lifecycle = Objects.requireNonNull(lifecycle, "lifecycle");
            this.access = Objects.requireNonNull(access, "access");
        }

        /** Listens for RSocket over TCP; port 0 picks a free port. */
        public Builder tcp(String host, int port) {
            this.tcp = address(host, port, "tcp");
            return this;
        }

        /** Listens for RSocket over WebSocket; port 0 picks a free port. */
        public Builder websocket(String host, int port) {
            this.websocket = address(host, port, "websocket");
            return this;
        }

        /** TLS on every listener (both TCP and WebSocket); the files are read by {@link #build()}. */
        public Builder tls(ServerTls tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
            return this;
        }

        /**
         * The admin token that opens the control routes, if the store has none yet: the deployment's
         * admin token is kept (hashed) in the store, so that every control plane on it accepts the
         * same one. Without it, the control routes take the one the store has, or refuse everybody.
         */
        public Builder adminToken(String adminToken) {
            this.adminToken = Objects.requireNonNull(adminToken, "adminToken");
            if (adminToken.length() < 16) {
                throw new IllegalArgumentException("adminToken: at least 16 characters");
            }
            return this;
        }

        /** The limit on one payload (data plus metadata); 64 KiB by default. */
        public Builder maxPayloadBytes(int maxPayloadBytes) {
            if (maxPayloadBytes < 1024) {
                throw new IllegalArgumentException("maxPayloadBytes: at least 1024, was " + maxPayloadBytes);
            }
            this.maxPayloadBytes = maxPayloadBytes;
            return this;
        }

        /** Lifecycle updates one session may send: {@code perSecond} sustained, {@code burst} at once; 50 and 100 by default. */
        public Builder updateRateLimit(int perSecond, int burst) {
            if (perSecond < 1 || burst < 1) {
                throw new IllegalArgumentException("updateRateLimit: perSecond and burst must be positive");
            }
            this.updatesPerSecond = perSecond;
            this.updateBurst = burst;
            return this;
        }

        /**
         * Failed identity exchanges one source address may make: {@code burst} at once, then
         * {@code perSecond}; past that every exchange from it is refused (RESOURCE_EXHAUSTED) until
         * its budget refills. 20 and 1 per second by default. Successful exchanges are free.
         */
        public Builder exchangeFailureLimit(double perSecond, int burst) {
            if (perSecond <= 0 || burst < 1) {
                throw new IllegalArgumentException("exchangeFailureLimit: perSecond and burst must be positive");
            }
            this.exchangeFailuresPerSecond = perSecond;
            this.exchangeFailureBurst = burst;
            return this;
        }

        /**
         * Connections in total, connections not yet authenticated in total (the rest is kept for
         * authenticated ones; past it the oldest unauthenticated connection is closed for the new
         * one), and connections not yet authenticated from one source address (past it a new one
         * is refused). 10,000, 1,000 and 64 by default; lowered at start to fit the process's
         * open-file limit.
         */
        public Builder connectionLimits(int total, int unauthenticated, int unauthenticatedPerAddress) {
            positive(total, "connectionLimits: total");
            positive(unauthenticated, "connectionLimits: unauthenticated");
            positive(unauthenticatedPerAddress, "connectionLimits: unauthenticatedPerAddress");
            if (unauthenticated > total || unauthenticatedPerAddress > unauthenticated) {
                throw new IllegalArgumentException("connectionLimits: need unauthenticatedPerAddress <= unauthenticated"
                        + " <= total, were " + unauthenticatedPerAddress + ", " + unauthenticated + ", " + total);
            }
            this.maxConnections = total;
            this.maxUnauthenticated = unauthenticated;
            this.maxUnauthenticatedPerAddress = unauthenticatedPerAddress;
            return this;
        }

        /** How long a new connection (TCP, or WebSocket before its upgrade) may take to send SETUP; 5 s by default. */
        public Builder setupTimeout(Duration timeout) {
            this.setupTimeout = positive(timeout, "setupTimeout");
            return this;
        }

        /**
         * The keepalive a SETUP may ask for: an interval from {@code minInterval} to
         * {@code maxInterval}, a max lifetime from that interval to {@code maxLifetime}; anything
         * else is refused with REJECTED_SETUP naming the bounds. 100 ms, 60 s and 300 s by default.
         */
        public Builder keepAliveBounds(Duration minInterval, Duration maxInterval, Duration maxLifetime) {
            positive(minInterval, "keepAliveBounds: minInterval");
            if (positive(maxInterval, "keepAliveBounds: maxInterval").compareTo(minInterval) < 0
                    || positive(maxLifetime, "keepAliveBounds: maxLifetime").compareTo(maxInterval) < 0) {
                throw new IllegalArgumentException("keepAliveBounds: need minInterval <= maxInterval <= maxLifetime");
            }
            this.minKeepAliveInterval = minInterval;
            this.maxKeepAliveInterval = maxInterval;
            this.maxKeepAliveLifetime = maxLifetime;
            return this;
        }

        /**
         * What a connection without a token may do: {@code exchanges} identity exchanges, no
         * longer than {@code idle} without a request, {@code lifetime} in all. 4, 10 s and 30 s by default.
         */
        public Builder anonymousLimits(int exchanges, Duration idle, Duration lifetime) {
            this.anonymousExchanges = positive(exchanges, "anonymousLimits: exchanges");
            this.anonymousIdle = positive(idle, "anonymousLimits: idle");
            this.anonymousLifetime = positive(lifetime, "anonymousLimits: lifetime");
            return this;
        }

        /**
         * Per connection: request-streams and channels open at once, and request-responses in
         * flight; past either, a new one is refused with RESOURCE_EXHAUSTED. 64 and 256 by default.
         */
        public Builder streamLimits(int streamsPerConnection, int requestsPerConnection) {
            this.maxStreamsPerConnection = positive(streamsPerConnection, "streamLimits: streamsPerConnection");
            this.maxRequestsPerConnection = positive(requestsPerConnection, "streamLimits: requestsPerConnection");
            return this;
        }

        /** Where the connection deadlines run; {@link Schedulers#parallel()} by default. */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * Where the server's meters go ({@code agentcore.connections.*}, {@code agentcore.channels.*},
         * {@code agentcore.exchanges}); a private {@link SimpleMeterRegistry} by default.
         */
        public Builder meterRegistry(MeterRegistry meters) {
            this.meters = Objects.requireNonNull(meters, "meters");
            return this;
        }

        private static int positive(int value, String field) {
            if (value < 1) {
                throw new IllegalArgumentException(field + ": must be positive, was " + value);
            }
            return value;
        }

        private static Duration positive(Duration value, String field) {
            Objects.requireNonNull(value, field);
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(field + ": must be positive, was " + value);
            }
            return value;
        }

        /**
         * Adds a request-channel route for the admin token, served by {@code handler}: it receives
         * every payload of the channel, the opening one (with the route) first. For what an
         * embedding program adds, such as a benchmark's transport baseline; agentcore's own routes
         * ({@code agent.*}, {@code control.*}) cannot be taken.
         */
        public Builder adminChannelRoute(String route, Function<Flux<Payload>, Flux<Payload>> handler) {
            Objects.requireNonNull(route, "route");
            Objects.requireNonNull(handler, "handler");
            if (route.isBlank() || route.startsWith("agent.") || route.startsWith("control.")) {
                throw new IllegalArgumentException("adminChannelRoute: '" + route + "' is blank or one of agentcore's own");
            }
            if (adminChannelRoutes.putIfAbsent(route, handler) != null) {
                throw new IllegalArgumentException("adminChannelRoute: '" + route + "' was added already");
            }
            return this;
        }

        /** The clock for the times the server reports (a manifest's server time); the UTC system clock by default. Rate limits never read it. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The monotonic time source of the rate limits, in nanoseconds; {@code System::nanoTime} unless a test sets one. */
        Builder nanoTime(LongSupplier nanoTime) {
            this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
            return this;
        }

        public ControlPlaneServer build() {
            if (tcp == null && websocket == null) {
                throw new IllegalStateException("configure tcp(host, port), websocket(host, port) or both");
            }
            return new ControlPlaneServer(this);
        }

        private static InetSocketAddress address(String host, int port, String what) {
            Objects.requireNonNull(host, "host");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException(what + " port: 0 to 65535, was " + port);
            }
            return InetSocketAddress.createUnresolved(host, port);
        }
    }

    /** A started control plane: its bound addresses, and how to stop it. */
    public static final class RunningControlPlane implements Disposable {

        private final CloseableChannel tcp;
        private final CloseableChannel websocket;
        private final OpenConnections connections;
        private final Disposable fences;
        private final ServerMeters meters;

        RunningControlPlane(CloseableChannel tcp, CloseableChannel websocket,
                            OpenConnections connections, Disposable fences, ServerMeters meters) {
            this.tcp = tcp;
            this.websocket = websocket;
            this.connections = connections;
            this.fences = fences;
            this.meters = meters;
        }

        /** How many lifecycle channels (agents reporting) are open on {@code row} on this control plane now. */
        public int openChannels(AgentId row) {
            Objects.requireNonNull(row, "row");
            return meters.channelsOpen(row);
        }

        /** How many connections are open now. */
        public int openConnections() {
            return connections.size();
        }

        /** Whether every configured listener is still bound (false once disposed, or if one closed). */
        public boolean listening() {
            return (tcp == null || !tcp.isDisposed()) && (websocket == null || !websocket.isDisposed());
        }

        /** The bound TCP address; fails if TCP was not configured. */
        public InetSocketAddress tcpAddress() {
            if (tcp == null) {
                throw new IllegalStateException("no TCP listener was configured");
            }
            return tcp.address();
        }

        /** The bound WebSocket address; fails if WebSocket was not configured. */
        public InetSocketAddress websocketAddress() {
            if (websocket == null) {
                throw new IllegalStateException("no WebSocket listener was configured");
            }
            return websocket.address();
        }

        /**
         * Completes when every listener is closed and then every connection open at that moment
         * has closed. Disposing closes both.
         */
        public Mono<Void> onClose() {
            return Mono.when(tcp == null ? Mono.empty() : tcp.onClose(),
                            websocket == null ? Mono.empty() : websocket.onClose())
                    .then(connections.onClosed());
        }

        @Override
        public void dispose() {
            if (tcp != null) {
                tcp.dispose();
            }
            if (websocket != null) {
                websocket.dispose();
            }
            fences.dispose();
            connections.closeAll();
        }

        /** Disposes and waits up to {@code timeout} for the listeners and connections to close: for the edges of a program. */
        public void disposeNow(Duration timeout) {
            dispose();
            onClose().timeout(timeout, Mono.fromCallable(() -> {
                throw new IllegalStateException("the control plane did not stop within " + timeout
                        + " (connections still open: " + connections.size() + ")");
            })).block();
        }

        @Override
        public boolean isDisposed() {
            return (tcp == null || tcp.isDisposed()) && (websocket == null || websocket.isDisposed());
        }
    }
}
