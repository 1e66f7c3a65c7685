package dev.agentcore.transport;

import io.rsocket.RSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Mono;

/**
 * The authenticated connections of one running control plane, each tracked from its accepted
 * SETUP until it closes; stopping the control plane closes them all and refuses any SETUP still
 * being checked, so that none outlives the stop.
 */
final class OpenConnections {

    /** Each connection's handler (what it serves) and its peer (disposing it closes the connection). */
    private final Map<ConnectionHandler, RSocket> open = new ConcurrentHashMap<>();
    private volatile boolean closing;

    /**
     * Tracks a connection whose SETUP was accepted; once the control plane is stopping, disposes
     * the handler instead and answers false (the SETUP must be refused).
     */
    boolean track(ConnectionHandler handler, RSocket peer) {
        open.put(handler, peer);
        // Read after the put, as closeAll writes the flag before it looks: one of the two sees the other.
        if (closing) {
            handler.dispose();
            return false;
        }
        return true;
    }

    /** Forgets a connection: called by its handler once, when it is disposed. */
    void untrack(ConnectionHandler handler) {
        open.remove(handler);
    }

    /** The connections open now, each with its peer. */
    List<Map.Entry<ConnectionHandler, RSocket>> snapshot() {
        return List.copyOf(open.entrySet());
    }

    int size() {
        return open.size();
    }

    /** Closes every connection, and refuses from now on those whose SETUP is still being checked. */
    void closeAll() {
        closing = true;
        open.values().forEach(RSocket::dispose);
    }

    /** Completes once every connection open at subscription time has closed and been untracked. */
    Mono<Void> onClosed() {
        return Mono.defer(() -> Mono.when(open.keySet().stream().map(ConnectionHandler::onClose).toList()));
    }
}
