package dev.agentcore.bench.jmh;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.agent.AgentSession;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A session that acknowledges every update at once, on the sending thread: the reporter alone is measured. */
final class ImmediateSession implements AgentSession {

    private final Manifest manifest;

    ImmediateSession(AgentId agentId) {
        this.manifest = Manifest.of(agentId, "bench", "bench-agent");
    }

    @Override
    public Manifest manifest() {
        return manifest;
    }

    @Override
    public Flux<LifecycleAck> lifecycleChannel(Publisher<LifecycleUpdate> updates) {
        return Flux.from(updates).map(update ->
                new LifecycleAck(update.chain(), update.seq(), LifecycleAck.Outcome.APPLIED, update.state()));
    }

    @Override
    public Mono<Void> onClose() {
        return Mono.never();
    }
}
