package dev.agentcore.transport;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.agent.ClockOffset;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.util.DefaultPayload;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * An {@link AgentSession}: one binding to an agent row on an RSocket connection. Its lifecycle
 * channel is one request-channel (RSocket's request(n) carries backpressure both ways).
 *
 * <p>In protocol v1 the connection is the session's own: when the channel ends the connection is
 * closed, so the connector establishes the next session. In v2 the connection is kept across
 * bindings: a channel that ends with FENCED ends only this session (the next manifest on the
 * connection brings the next one); any other end closes the connection.
 */
final class RSocketAgentSession implements AgentSession {

    private static final byte[] EMPTY = new byte[0];

    private final RSocket rsocket;
    private final Mono<Void> connectionClosed;
    private final Manifest manifest;
    private final long openedAtMillis;
    private final ClockOffset clockOffset;
    private final boolean keptConnection;
    private final Runnable acknowledged;
    private final Sinks.Empty<Void> bindingEnded = Sinks.empty();
    private volatile boolean acknowledgedAny;
    private volatile Throwable endedWith;

    /** A protocol v1 session: the connection is the session's own. */
    RSocketAgentSession(RSocket rsocket, Mono<Void> connectionClosed, Manifest manifest, ClockOffset clockOffset,
                        long openedAtMillis) {
        this(rsocket, connectionClosed, manifest, clockOffset, openedAtMillis, false, () -> { });
    }

    /**
     * A session; with {@code keptConnection} (protocol v2) one of the bindings of a connection that
     * outlives it, {@code acknowledged} told of every acknowledgement.
     */
    RSocketAgentSession(RSocket rsocket, Mono<Void> connectionClosed, Manifest manifest, ClockOffset clockOffset,
                        long openedAtMillis, boolean keptConnection, Runnable acknowledged) {
        this.keptConnection = keptConnection;
        this.acknowledged = acknowledged;
        this.rsocket = rsocket;
        this.connectionClosed = connectionClosed;
        this.clockOffset = clockOffset;
        this.manifest = manifest;
        this.openedAtMillis = openedAtMillis;
    }

    /** When the session opened, on the connector's scheduler's clock. */
    long openedAtMillis() {
        return openedAtMillis;
    }

    /** Whether the control plane acknowledged any update on this session: progress. */
    boolean acknowledgedAny() {
        return acknowledgedAny;
    }

    /**
     * The error the lifecycle channel ended with; null if none (yet). The connector reads it when
     * the session has closed: a refused credential there means the next attempt exchanges again.
     */
    Throwable endedWith() {
        return endedWith;
    }

    @Override
    public Manifest manifest() {
        return manifest;
    }

    @Override
    public ClockOffset clockOffset() {
        return clockOffset;
    }

    @Override
    public Flux<LifecycleAck> lifecycleChannel(Publisher<LifecycleUpdate> updates) {
        // The first payload opens the channel at once, so the control plane can fence an idle agent.
        Flux<Payload> outbound = Flux.concat(
                Mono.fromSupplier(() -> keptConnection
                        ? RSocketClients.routed(Routes.LIFECYCLE_V2, ProtoCodec.encodeBinding(manifest.agentId()))
                        : RSocketClients.routed(Routes.LIFECYCLE, EMPTY)),
                Flux.from(updates).map(update -> DefaultPayload.create(ProtoCodec.encodeUpdate(update))));
        return rsocket.requestChannel(outbound)
                .map(payload -> RSocketClients.decode(payload, ProtoCodec::decodeAck))
                .doOnNext(ack -> {
                    acknowledgedAny = true;
                    acknowledged.run();
                })
                .onErrorMap(WireErrors::fromWire)
                .doOnError(error -> {
                    endedWith = error;
                    if (keptConnection && error instanceof AgentcoreException refusal && refusal.code() == ErrorCode.FENCED) {
                        // Only the row is gone: the connection carries the next binding.
                        return;
                    }
                    rsocket.dispose();
                })
                .doOnComplete(rsocket::dispose)
                // After the error or completion has reached the reporter, so that it learns why first.
                .doFinally(signal -> endBinding());
    }

    /**
     * Completes when the session is over: its channel ended (v2), or rsocket-java says the
     * connection is closed, or the connection is, whichever comes first.
     */
    @Override
    public Mono<Void> onClose() {
        Mono<Void> connection = Mono.firstWithSignal(rsocket.onClose().onErrorResume(error -> Mono.empty()),
                connectionClosed);
        return keptConnection ? Mono.firstWithSignal(bindingEnded.asMono(), connection) : connection;
    }

    private void endBinding() {
        Sinks.EmitResult ended = bindingEnded.tryEmitEmpty();
        if (ended.isFailure() && ended != Sinks.EmitResult.FAIL_TERMINATED) {
            // Terminated already only if a second channel was opened on this session; nothing else can fail here.
            throw new IllegalStateException("could not note the end of a binding: " + ended);
        }
    }

    void dispose() {
        rsocket.dispose();
    }

    @Override
    public String toString() {
        return "RSocketAgentSession[" + manifest.agentId() + "]";
    }
}
