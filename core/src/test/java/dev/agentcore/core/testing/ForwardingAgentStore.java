package dev.agentcore.core.testing;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.AgentStore;
import java.time.Instant;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** An {@link AgentStore} that forwards every call to another: tests override the calls they bend. */
public class ForwardingAgentStore implements AgentStore {

    protected final AgentStore delegate;

    public ForwardingAgentStore(AgentStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public Mono<AgentRow> findRow(AgentId agentId) {
        return delegate.findRow(agentId);
    }

    @Override
    public Mono<AgentRow> recentRow(AgentId agentId) {
        return delegate.recentRow(agentId);
    }

    @Override
    public Mono<AgentRow> latestRow(String workspace) {
        return delegate.latestRow(workspace);
    }

    @Override
    public Flux<AgentRow> rows(String workspace, int limit) {
        return delegate.rows(workspace, limit);
    }

    @Override
    public Mono<AgentRow> startBuild(String workspace, long scriptsRevision, Instant createdAt) {
        return delegate.startBuild(workspace, scriptsRevision, createdAt);
    }

    @Override
    public Mono<AgentRow> stopBuild(String workspace) {
        return delegate.stopBuild(workspace);
    }

    @Override
    public Mono<Boolean> compareAndSet(AgentRow expected, AgentRow next) {
        return delegate.compareAndSet(expected, next);
    }

    @Override
    public Flux<AgentRow> changes() {
        return delegate.changes();
    }
}
