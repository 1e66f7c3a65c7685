package dev.agentcore.core.control;

import dev.agentcore.core.AgentId;
import java.time.Instant;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where the control plane keeps agent rows: in memory ({@link InMemoryAgentStore}) or in a
 * database ({@code store} module). Every row write is a compare-and-set on its version.
 */
public interface AgentStore {

    /** The row with this id; empty if there is none. */
    Mono<AgentRow> findRow(AgentId agentId);

    /**
     * The row as this store last saw it, without a round trip where the store keeps such a
     * picture. It may lag a write made elsewhere (another control-plane replica): use it only where
     * a stale picture costs a retry, never a wrong answer ({@link LifecycleService} decides on it,
     * and decides again on {@link #findRow} before it refuses or after a lost compare-and-set). By
     * default, {@link #findRow}.
     */
    default Mono<AgentRow> recentRow(AgentId agentId) {
        return findRow(agentId);
    }

    /** The workspace's row of its latest build, active or retired; empty if it never had a build. */
    Mono<AgentRow> latestRow(String workspace);

    /** The workspace's rows, latest build first, at most {@code limit}. */
    Flux<AgentRow> rows(String workspace, int limit);

    /**
     * Starts a build, in one atomic step: creates the next row at CREATED, its manifest carrying
     * that revision of the workspace's scripts, and retires the workspace's active row, if any.
     * Emits the new row.
     */
    Mono<AgentRow> startBuild(String workspace, long scriptsRevision, Instant createdAt);

    /** Retires the workspace's active row; emits it retired, or nothing if none was active. */
    Mono<AgentRow> stopBuild(String workspace);

    /**
     * Writes {@code next} if the stored row still has {@code expected}'s version; emits whether it
     * did. {@code next} must be the same row at {@code expected.version() + 1}.
     */
    Mono<Boolean> compareAndSet(AgentRow expected, AgentRow next);

    /**
     * Every row as written: a hot Flux without replay. A write may arrive more than once, or
     * after a later write of the same row (PostgreSQL delivers both locally and by NOTIFY), so
     * consumers keep the newest picture ({@link AgentRow#isNewerThan}). Each subscriber buffers on
     * its own, so a slow one holds back nobody else.
     */
    Flux<AgentRow> changes();
}
