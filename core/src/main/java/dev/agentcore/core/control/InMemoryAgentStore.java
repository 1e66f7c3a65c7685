package dev.agentcore.core.control;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.internal.Randomness;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** An {@link AgentStore} in memory: for tests, demos and a control plane that may forget on restart. */
public final class InMemoryAgentStore implements AgentStore {

    private final Object lock = new Object();
    private final Map<AgentId, AgentRow> rows = new HashMap<>();
    private final Map<String, List<AgentId>> buildsByWorkspace = new HashMap<>();
    private final RowChanges changes = new RowChanges();

    /** An empty store: no workspace, no row. */
    public InMemoryAgentStore() {
        // startBuild draws each new row's AgentId on the caller's thread, maybe an event loop:
        // seed the generator here, where blocking is allowed.
        Randomness.seedNow();
    }

    @Override
    public Mono<AgentRow> findRow(AgentId agentId) {
        Objects.requireNonNull(agentId, "agentId");
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                return rows.get(agentId);
            }
        });
    }

    @Override
    public Mono<AgentRow> latestRow(String workspace) {
        Objects.requireNonNull(workspace, "workspace");
        return rows(workspace, 1).next();
    }

    @Override
    public Flux<AgentRow> rows(String workspace, int limit) {
        Objects.requireNonNull(workspace, "workspace");
        return Flux.defer(() -> {
            List<AgentRow> result = new ArrayList<>();
            synchronized (lock) {
                for (AgentId agentId : buildsByWorkspace.getOrDefault(workspace, List.of())) {
                    result.add(rows.get(agentId));
                }
            }
            result.sort(Comparator.comparingLong(AgentRow::buildNumber).reversed());
            return Flux.fromIterable(result).take(limit);
        });
    }

    @Override
    public Mono<AgentRow> startBuild(String workspace, long scriptsRevision, Instant createdAt) {
        Objects.requireNonNull(workspace, "workspace");
        Objects.requireNonNull(createdAt, "createdAt");
        if (scriptsRevision < 1) {
            throw new IllegalArgumentException("scriptsRevision: from 1, was " + scriptsRevision);
        }
        return Mono.fromSupplier(() -> {
            AgentRow created;
            synchronized (lock) {
                List<AgentId> builds = buildsByWorkspace.computeIfAbsent(workspace, ignored -> new ArrayList<>());
                retireActive(builds);
                created = AgentRow.created(AgentId.random(), workspace, builds.size() + 1L, createdAt,
                        scriptsRevision);
                builds.add(created.agentId());
                write(created);
            }
            changes.publish();
            return created;
        });
    }

    @Override
    public Mono<AgentRow> stopBuild(String workspace) {
        Objects.requireNonNull(workspace, "workspace");
        return Mono.fromSupplier(() -> {
            AgentRow retired;
            synchronized (lock) {
                retired = retireActive(buildsByWorkspace.getOrDefault(workspace, List.of()));
            }
            changes.publish();
            return retired;
        });
    }

    @Override
    public Mono<Boolean> compareAndSet(AgentRow expected, AgentRow next) {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(next, "next");
        if (!expected.agentId().equals(next.agentId()) || next.version() != expected.version() + 1) {
            return Mono.error(new IllegalArgumentException(
                    "next must be the same row one version later, was " + next.agentId() + " v" + next.version()
                            + " after " + expected.agentId() + " v" + expected.version()));
        }
        return Mono.fromSupplier(() -> {
            boolean written;
            synchronized (lock) {
                AgentRow stored = rows.get(expected.agentId());
                written = stored != null && stored.version() == expected.version();
                if (written) {
                    write(next);
                }
            }
            changes.publish();
            return written;
        });
    }

    @Override
    public Flux<AgentRow> changes() {
        return changes.asFlux();
    }

    /** Retires the active row among {@code builds}, if any; call under the lock. */
    private AgentRow retireActive(List<AgentId> builds) {
        if (builds.isEmpty()) {
            return null;
        }
        AgentRow latest = rows.get(builds.get(builds.size() - 1));
        if (!latest.active()) {
            return null;
        }
        AgentRow retired = latest.retired();
        write(retired);
        return retired;
    }

    /** Stores a row and queues its publication in write order; call under the lock. */
    private void write(AgentRow row) {
        rows.put(row.agentId(), row);
        changes.committed(row);
    }
}
