package dev.agentcore.transport;

import dev.agentcore.core.control.InMemoryWorkspaceStore;
import dev.agentcore.core.testing.ForwardingWorkspaceStore;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * An in-memory workspace store whose first admin-token check after the control plane has started
 * is held: the token's hash is read, then its answer waits for {@link #answer()}. For tests of
 * what happens while a SETUP is being checked.
 */
final class HeldAdminTokenCheck extends ForwardingWorkspaceStore {

    private final CompletableFuture<Void> checking = new CompletableFuture<>();
    private final Sinks.Empty<Void> answered = Sinks.empty();
    /** Set once the control plane has put its admin token in place (at its start). */
    private volatile boolean hold;

    HeldAdminTokenCheck() {
        super(new InMemoryWorkspaceStore());
    }

    @Override
    public Mono<String> adminTokenHash() {
        if (!hold) {
            return super.adminTokenHash();
        }
        hold = false;
        return super.adminTokenHash().doOnNext(read -> checking.complete(null)).delayUntil(read -> answered.asMono());
    }

    @Override
    public Mono<Boolean> initializeAdminTokenHash(String hash) {
        return super.initializeAdminTokenHash(hash).doFinally(signal -> hold = true);
    }

    /** Waits until a SETUP's check has read the admin token's hash and is being held. */
    void awaitCheck(Duration timeout) throws Exception {
        checking.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Lets the held check answer. */
    void answer() {
        answered.tryEmitEmpty().orThrow();
    }
}
