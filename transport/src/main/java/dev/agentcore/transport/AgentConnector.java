package dev.agentcore.transport;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.agent.Backoff;
import dev.agentcore.core.agent.ClockOffset;
import dev.agentcore.transport.proto.v1.ExchangeRequest;
import dev.agentcore.transport.proto.v1.ExchangeResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Connects an agent to its control plane over and over: a {@code Flux<AgentSession>} for
 * {@link dev.agentcore.core.agent.LifecycleReporter#report}.
 *
 * <p>With protocol v2 (the default) each cycle exchanges the instance identity for a connection
 * token (unless it holds one that still works), connects with the token in SETUP and asks for the
 * workspace's manifests; every manifest (the active row's, then each new build's) is emitted as a
 * session bound to that row, all on the one connection, until it closes. With v1 each cycle
 * exchanges for a session token bound to the current row, connects, fetches the manifest, emits
 * the one session and waits for it to close. Then it backs off with full jitter (a random delay up
 * to {@code initial * 2^failures}, capped at {@code max}) and goes again. Only a connection that
 * made progress (an update acknowledged, or open for at least {@code max}) resets the backoff;
 * one that ended without, as when every update is refused, counts as a failure, so no refusal is
 * ever retried at full speed. An UNAUTHENTICATED answer (and with v1 a FENCED one) drops the
 * token, so the next cycle exchanges again. When the exchange itself refuses the instance
 * identity {@code identityRefusalLimit} times in a row, the sessions Flux fails with that
 * UNAUTHENTICATED: the identity is wrong, and retrying would only spend the address's budget of
 * failed exchanges.
 *
 * <pre>{@code
 * AgentConnector connector = AgentConnector.builder(ControlPlaneAddress.tcp("127.0.0.1", 7878), identity).build();
 * reporter.report(connector.sessions()).subscribe();
 * }</pre>
 */
public final class AgentConnector {

    private static final Logger log = LoggerFactory.getLogger(AgentConnector.class);

    private final List<ControlPlaneAddress> addresses;
    private final String instanceIdentity;
    private final Backoff backoff;
    private final KeepAlive keepAlive;
    private final Scheduler scheduler;
    private final Random random;
    private final int identityRefusalLimit;
    private final Clock clock;
    private final Protocol protocol;

    private AgentConnector(Builder builder) {
        this.addresses = List.copyOf(builder.addresses);
        this.instanceIdentity = builder.instanceIdentity;
        this.backoff = builder.backoff;
        this.keepAlive = builder.keepAlive;
        this.scheduler = builder.scheduler;
        this.random = builder.random;
        this.identityRefusalLimit = builder.identityRefusalLimit;
        this.clock = builder.clock;
        this.protocol = builder.protocol;
    }

    /** Starts configuring a connector to {@code address} with the workspace's instance identity. */
    public static Builder builder(ControlPlaneAddress address, String instanceIdentity) {
        return new Builder(address, instanceIdentity);
    }

    /**
     * Sessions, one after the other, for as long as subscribed. Never completes on its own; fails
     * when the instance identity was refused {@code identityRefusalLimit} times in a row.
     */
    public Flux<AgentSession> sessions() {
        return Flux.defer(() -> {
            Cycle cycle = new Cycle();
            Flux<AgentSession> connection = protocol == Protocol.V2
                    ? Flux.<AgentSession>defer(() -> cycle.bindings())
                    : Flux.defer(cycle::establish)
                            .flatMap(session -> Flux.<AgentSession>just(session)
                                    .concatWith(session.onClose().then(Mono.fromRunnable(() -> cycle.ended(session))))
                                    .doOnCancel(session::dispose));
            return connection
                    .onErrorResume(error -> {
                        cycle.failed(error);
                        return cycle.identityRefusals >= identityRefusalLimit
                                ? Mono.error(new AgentcoreException(ErrorCode.UNAUTHENTICATED, "the instance identity was "
                                        + "refused " + cycle.identityRefusals + " times in a row: check the identity file "
                                        + "(the last refusal: " + error.getMessage() + ")"))
                                : Mono.empty();
                    })
                    .repeatWhen(cycles -> cycles.concatMap(ignored -> backoff.pause(cycle.failures, random, scheduler)));
        });
    }

    /** The state of one subscription's connect loop; touched by one cycle at a time. */
    private final class Cycle {
        private volatile String sessionToken;
        private volatile int failures;
        private volatile int addressIndex;
        private volatile int identityRefusals;
        /** What the last connection exchange measured of this agent's clock; null if none. */
        private volatile ClockOffset exchangeOffset;

        Mono<RSocketAgentSession> establish() {
            ControlPlaneAddress address = addresses.get(addressIndex % addresses.size());
            Mono<String> token = sessionToken != null ? Mono.just(sessionToken) : exchange(address);
            LivenessWatch watch = new LivenessWatch(scheduler, keepAlive);
            return token.flatMap(current -> RSocketClients.connect(address, current, keepAlive, watch)
                    .flatMap(rsocket -> Mono.defer(() -> {
                                // The manifest's round trip measures this agent's clock against the control plane's.
                                Instant sentAt = clock.instant();
                                return awaited(watch, RSocketClients.requestResponse(rsocket, Routes.MANIFEST, new byte[0],
                                                ProtoCodec::decodeManifestAnswer))
                                        .map(answer -> new RSocketAgentSession(rsocket, watch.onClose(), answer.manifest(),
                                                answer.serverTime() == null ? ClockOffset.UNKNOWN
                                                        : ClockOffset.measured(sentAt, answer.serverTime(), clock.instant()),
                                                scheduler.now(TimeUnit.MILLISECONDS)));
                            })
                            .doOnError(error -> rsocket.dispose())))
                    .doOnNext(session -> connected(address, session, true));
        }

        /**
         * Protocol v2: one connection, kept; one session per manifest the control plane sends on
         * it (the active row's, then each new build's); completes once the connection has closed.
         */
        Flux<AgentSession> bindings() {
            ControlPlaneAddress address = addresses.get(addressIndex % addresses.size());
            Mono<String> token = sessionToken != null ? Mono.just(sessionToken) : exchangeForConnection(address);
            LivenessWatch watch = new LivenessWatch(scheduler, keepAlive);
            return token.flatMap(current -> RSocketClients.connect(address, current, keepAlive, watch))
                    .flatMapMany(rsocket -> {
                        KeptConnection kept = new KeptConnection(scheduler.now(TimeUnit.MILLISECONDS));
                        Mono<Void> closed = Mono.firstWithSignal(rsocket.onClose().onErrorResume(error -> Mono.empty()),
                                watch.onClose());
                        return Flux.defer(() -> {
                                    Instant sentAt = clock.instant();
                                    // The first manifest must come within the max lifetime (see LivenessWatch#awaiting).
                                    watch.awaiting();
                                    // Published, not cancelled by whoever stops listening: it ends with the
                                    // connection. rsocket-java 1.1.5 reports a stream cancelled while its
                                    // connection closes as an error nobody received (logged as dropped).
                                    return RSocketClients.requestStream(rsocket, Routes.MANIFESTS_V2, new byte[0],
                                                    ProtoCodec::decodeManifestAnswer)
                                            .publish().autoConnect()
                                            .map(answer -> {
                                                boolean first = kept.offset == null;
                                                if (first) {
                                                    watch.answered();
                                                    // The first manifest's round trip measures this agent's clock, unless
                                                    // the exchange just did so more closely.
                                                    kept.offset = closer(exchangeOffset, answer.serverTime() == null
                                                            ? ClockOffset.UNKNOWN
                                                            : ClockOffset.measured(sentAt, answer.serverTime(), clock.instant()));
                                                }
                                                RSocketAgentSession session = new RSocketAgentSession(rsocket,
                                                        watch.onClose(), answer.manifest(), kept.offset,
                                                        scheduler.now(TimeUnit.MILLISECONDS), true, kept::progressed);
                                                kept.latest = session;
                                                connected(address, session, first);
                                                return session;
                                            });
                                })
                                // A connection that ends (closed by either side, cut, timed out) fails its
                                // manifests with the transport's error: that is the connection's end, which
                                // ended() accounts for, not a failed attempt to connect. Only a refusal
                                // from the control plane fails this cycle.
                                .onErrorResume(error -> !(error instanceof AgentcoreException), closedUnderIt -> Mono.empty())
                                // The manifests end only with the connection; if they end otherwise, so does it.
                                .doOnTerminate(rsocket::dispose)
                                .takeUntilOther(closed)
                                .concatWith(closed.then(Mono.fromRunnable(() -> ended(kept))))
                                // Closed before the cancel goes on: the manifests stream then ends with the
                                // connection (an error the resume above turns into its end), where a stream
                                // cancelled first and failed by the closing connection would be reported by
                                // rsocket-java as an error nobody received.
                                .doOnCancel(rsocket::dispose);
                    });
        }

        private void connected(ControlPlaneAddress address, RSocketAgentSession session, boolean measured) {
            log.info("connected to {} as agent row {}", address, session.manifest().agentId());
            ClockOffset offset = session.clockOffset();
            if (measured && !offset.correction().isZero()) {
                log.info("this agent's clock is {} ms {} the control plane's (within {} ms): the times it "
                        + "reports are corrected by that", offset.offset().abs().toMillis(),
                        offset.offset().isNegative() ? "ahead of" : "behind", offset.errorBound().toMillis());
            }
        }

        private Mono<String> exchangeForConnection(ControlPlaneAddress address) {
            byte[] request = ExchangeRequest.newBuilder().setInstanceIdentity(instanceIdentity).build().toByteArray();
            LivenessWatch watch = new LivenessWatch(scheduler, keepAlive);
            return RSocketClients.connect(address, null, keepAlive, watch)
                    .flatMap(rsocket -> Mono.defer(() -> {
                                Instant sentAt = clock.instant();
                                return awaited(watch, RSocketClients.requestResponse(rsocket, Routes.EXCHANGE_V2, request,
                                                ProtoCodec::decodeConnectionGrant))
                                        .doOnNext(grant -> exchangeOffset = grant.serverTime() == null ? null
                                                : ClockOffset.measured(sentAt, grant.serverTime(), clock.instant()));
                            })
                            .doOnError(error -> {
                                if (error instanceof AgentcoreException refusal && refusal.code() == ErrorCode.UNAUTHENTICATED) {
                                    identityRefusals++;
                                }
                            })
                            .doFinally(signal -> rsocket.dispose()))
                    .map(grant -> {
                        identityRefusals = 0;
                        sessionToken = grant.connectionToken();
                        return sessionToken;
                    });
        }

        /** A kept connection ended: it resets the backoff only if it made progress. */
        void ended(KeptConnection kept) {
            forgetTokenIfRefused(kept.latest);
            long lived = scheduler.now(TimeUnit.MILLISECONDS) - kept.openedAtMillis;
            if (kept.progressed || lived >= backoff.max().toMillis()) {
                failures = 0;
                return;
            }
            failures++;
            log.warn("the connection ended after {} ms without progress ({} in a row)", lived, failures);
        }

        private Mono<String> exchange(ControlPlaneAddress address) {
            byte[] request = ExchangeRequest.newBuilder().setInstanceIdentity(instanceIdentity).build().toByteArray();
            LivenessWatch watch = new LivenessWatch(scheduler, keepAlive);
            return RSocketClients.connect(address, null, keepAlive, watch)
                    .flatMap(rsocket -> awaited(watch, RSocketClients.requestResponse(rsocket, Routes.EXCHANGE, request,
                                    data -> ProtoCodec.parse(ExchangeResponse::parseFrom, data, "ExchangeResponse")))
                            .doOnError(error -> {
                                if (error instanceof AgentcoreException refusal && refusal.code() == ErrorCode.UNAUTHENTICATED) {
                                    identityRefusals++;
                                }
                            })
                            .doFinally(signal -> rsocket.dispose()))
                    .map(response -> {
                        if (response.getSessionToken().isEmpty()) {
                            throw new AgentcoreException(ErrorCode.INTERNAL, "exchange answered without a session token");
                        }
                        identityRefusals = 0;
                        sessionToken = response.getSessionToken();
                        return sessionToken;
                    });
        }

        void forgetToken() {
            sessionToken = null;
        }

        /** A session that ended because its credential was refused: the next attempt exchanges again. */
        private void forgetTokenIfRefused(RSocketAgentSession session) {
            if (session != null && session.endedWith() != null && WireErrors.rejectsCredential(session.endedWith())) {
                forgetToken();
            }
        }

        /** A session closed: it resets the backoff only if it made progress. */
        void ended(RSocketAgentSession session) {
            forgetTokenIfRefused(session);
            long lived = scheduler.now(TimeUnit.MILLISECONDS) - session.openedAtMillis();
            if (session.acknowledgedAny() || lived >= backoff.max().toMillis()) {
                failures = 0;
                return;
            }
            failures++;
            log.warn("the session on agent row {} ended after {} ms without progress ({} in a row){}",
                    session.manifest().agentId(), lived, failures,
                    session.endedWith() == null ? "" : ": " + session.endedWith().getMessage());
        }

        void failed(Throwable error) {
            failures++;
            if (WireErrors.rejectsCredential(error)) {
                forgetToken();
            } else {
                // The control plane did not answer: try the next replica, if there is one.
                addressIndex++;
            }
            log.warn("connecting to {} failed ({} in a row): {}", addresses, failures, error.toString());
        }
    }

    /**
     * The request a connection exists for, watched: unanswered for the keepalive's max lifetime,
     * the watch closes the connection and the request fails with it, so no attempt waits for ever
     * on a control plane that answers keepalives but not this (a hung store, a lost answer).
     */
    private static <T> Mono<T> awaited(LivenessWatch watch, Mono<T> request) {
        return Mono.defer(() -> {
            watch.awaiting();
            return request.doOnNext(answer -> watch.answered());
        });
    }

    /** The measurement with the smaller error bound; a known one over none. */
    private static ClockOffset closer(ClockOffset exchanged, ClockOffset manifest) {
        if (exchanged == null || exchanged.equals(ClockOffset.UNKNOWN)) {
            return manifest;
        }
        if (manifest.equals(ClockOffset.UNKNOWN)) {
            return exchanged;
        }
        return exchanged.errorBound().compareTo(manifest.errorBound()) < 0 ? exchanged : manifest;
    }

    /** One kept connection (protocol v2): when it opened, and whether any of its bindings made progress. */
    private static final class KeptConnection {
        final long openedAtMillis;
        volatile boolean progressed;
        volatile ClockOffset offset;
        /** The connection's latest binding: why it ended tells whether the credential was refused. */
        volatile RSocketAgentSession latest;

        KeptConnection(long openedAtMillis) {
            this.openedAtMillis = openedAtMillis;
        }

        void progressed() {
            progressed = true;
        }
    }

    /**
     * The wire protocol a connector speaks. V2 (the default) keeps one connection across builds;
     * V1 opens a connection per agent row, for control planes that do not serve v2.
     */
    public enum Protocol {
        V1,
        V2
    }

    /** Configures an {@link AgentConnector}. */
    public static final class Builder {

        private final List<ControlPlaneAddress> addresses = new ArrayList<>();
        private final String instanceIdentity;
        private Backoff backoff = Backoff.DEFAULT;
        private KeepAlive keepAlive = KeepAlive.DEFAULT;
        private Scheduler scheduler = Schedulers.parallel();
        private Random random = new Random();
        private int identityRefusalLimit = 10;
        private Clock clock = Clock.systemUTC();
        private Protocol protocol = Protocol.V2;

        private Builder(ControlPlaneAddress address, String instanceIdentity) {
            this.addresses.add(Objects.requireNonNull(address, "address"));
            this.instanceIdentity = Objects.requireNonNull(instanceIdentity, "instanceIdentity");
        }

        /**
         * More control-plane replicas to try, in order, after an attempt to the current one fails
         * to connect; the connector then stays with whichever answered.
         */
        public Builder alternateAddresses(ControlPlaneAddress... alternates) {
            for (ControlPlaneAddress alternate : alternates) {
                this.addresses.add(Objects.requireNonNull(alternate, "alternate"));
            }
            return this;
        }

        /** Full-jitter backoff between cycles; {@link Backoff#DEFAULT} (100 ms doubling to 10 s) by default. */
        public Builder backoff(Backoff backoff) {
            this.backoff = Objects.requireNonNull(backoff, "backoff");
            return this;
        }

        /** Shorthand for {@code backoff(new Backoff(initial, max))}. */
        public Builder backoff(Duration initial, Duration max) {
            return backoff(new Backoff(initial, max));
        }

        /**
         * RSocket keepalive, and this connector's own watch of the same lifetime: a peer silent for
         * the max lifetime is dead and the session closes. {@link KeepAlive#DEFAULT} (5 s, 15 s) by default.
         */
        public Builder keepAlive(KeepAlive keepAlive) {
            this.keepAlive = Objects.requireNonNull(keepAlive, "keepAlive");
            return this;
        }

        /** Shorthand for {@code keepAlive(new KeepAlive(interval, maxLifetime))}. */
        public Builder keepAlive(Duration interval, Duration maxLifetime) {
            return keepAlive(new KeepAlive(interval, maxLifetime));
        }

        /**
         * Where backoff pauses and the liveness watch run, and the clock they read; it must run
         * periodic tasks (every Reactor scheduler does). {@code Schedulers.parallel()} by default.
         */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /** How many refusals of the instance identity in a row end {@link #sessions()} with an error; 10 by default. */
        public Builder identityRefusalLimit(int limit) {
            if (limit < 1) {
                throw new IllegalArgumentException("identityRefusalLimit: must be positive, was " + limit);
            }
            this.identityRefusalLimit = limit;
            return this;
        }

        /**
         * The agent's clock, the one its {@code Lifecycle} stamps transitions with: each session
         * measures it against the control plane's; the UTC system clock by default.
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The wire protocol; {@link Protocol#V2} by default. */
        public Builder protocol(Protocol protocol) {
            this.protocol = Objects.requireNonNull(protocol, "protocol");
            return this;
        }

        /** The jitter's randomness; seed it to make delays repeatable. */
        public Builder random(Random random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /** Builds the connector; an address's TLS files that cannot be used are an IllegalArgumentException here, not a retry loop later. */
        public AgentConnector build() {
            for (ControlPlaneAddress address : addresses) {
                if (address.tls() != null) {
                    address.tls().sslContext();
                }
            }
            return new AgentConnector(this);
        }
    }
}
