package dev.agentcore.transport;

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

/**
 * An {@link AgentSession} on one RSocket connection. Its lifecycle channel is one request-channel
 * (RSocket's request(n) carries backpressure both ways); when the channel fails the connection is
 * closed, so the connector establishes the next session.
 */
final class RSocketAgentSession implements AgentSession {

    private static final byte[] EMPTY = new byte[0];

    private final RSocket rsocket;
    private final Mono<Void> connectionClosed;
    private final Manifest manifest;
    private final Runnable credentialRejected;
    private final long openedAtMillis;
    private final ClockOffset clockOffset;
    private volatile boolean acknowledgedAny;
    private volatile Throwable endedWith;

    RSocketAgentSession(RSocket rsocket, Mono<Void> connectionClosed, Manifest manifest, ClockOffset clockOffset,
                        Runnable credentialRejected, long openedAtMillis) {
        this.rsocket = rsocket;
        this.connectionClosed = connectionClosed;
        this.clockOffset = clockOffset;
        this.manifest = manifest;
        this.credentialRejected = credentialRejected;
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

    /** The error the lifecycle channel ended with; null if none (yet). */
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
                Mono.fromSupplier(() -> RSocketClients.routed(Routes.LIFECYCLE, EMPTY)),
                Flux.from(updates).map(update -> DefaultPayload.create(ProtoCodec.encodeUpdate(update))));
        return rsocket.requestChannel(outbound)
                .map(payload -> RSocketClients.decode(payload, ProtoCodec::decodeAck))
                .doOnNext(ack -> acknowledgedAny = true)
                .onErrorMap(WireErrors::fromWire)
                .doOnError(error -> {
                    endedWith = error;
                    if (WireErrors.rejectsCredential(error)) {
                        credentialRejected.run();
                    }
                    rsocket.dispose();
                })
                .doOnComplete(rsocket::dispose);
    }

    /** Completes when rsocket-java says the session is closed, or when its connection is, whichever comes first. */
    @Override
    public Mono<Void> onClose() {
        return Mono.firstWithSignal(rsocket.onClose().onErrorResume(error -> Mono.empty()), connectionClosed);
    }

    void dispose() {
        rsocket.dispose();
    }

    @Override
    public String toString() {
        return "RSocketAgentSession[" + manifest.agentId() + "]";
    }
}
