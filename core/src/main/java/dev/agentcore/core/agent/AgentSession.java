package dev.agentcore.core.agent;

import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.Manifest;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One established connection to the control plane, bound to the agent row its manifest names.
 *
 * <p>Transports implement it (RSocket over TCP or WebSocket in {@code transport}; tests use an
 * in-memory one). The reporter opens at most one lifecycle channel per session.
 */
public interface AgentSession {

    /** The manifest fetched when the session was established; its agent id is the bound row. */
    Manifest manifest();

    /**
     * Sends updates and receives one acknowledgement per update, in order. The returned Flux
     * errors (or completes) when the session can no longer carry updates; an update without an
     * acknowledgement may or may not have been applied.
     */
    Flux<LifecycleAck> lifecycleChannel(Publisher<LifecycleUpdate> updates);

    /** Completes when the session is closed, for whatever reason. */
    Mono<Void> onClose();

    /**
     * How far the agent's clock is behind the control plane's, as measured when the session was
     * established; the reporter corrects the times it sends by it. {@link ClockOffset#UNKNOWN} by default.
     */
    default ClockOffset clockOffset() {
        return ClockOffset.UNKNOWN;
    }
}
