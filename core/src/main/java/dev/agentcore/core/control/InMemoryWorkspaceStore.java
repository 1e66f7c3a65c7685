package dev.agentcore.core.control;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.Script;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A {@link WorkspaceStore} in memory: for tests and demos. */
public final class InMemoryWorkspaceStore implements WorkspaceStore {

    /** Guards the workspaces, their revisions and identities, which change together. */
    private final Object lock = new Object();
    /** Every workspace, as each revision of its scripts: revision n at index n - 1, the last the current one. */
    private final Map<String, List<Workspace>> revisions = new HashMap<>();
    private final Map<String, String> identityHashByName = new HashMap<>();
    private final Map<String, String> nameByIdentityHash = new HashMap<>();
    private final Map<String, StoredSessionToken> tokens = new ConcurrentHashMap<>();
    private final Map<String, StoredConnectionToken> connectionTokens = new ConcurrentHashMap<>();
    private final AtomicReference<String> adminTokenHash = new AtomicReference<>();

    /** An empty store: no workspace, no token. */
    public InMemoryWorkspaceStore() {
    }

    @Override
    public Mono<Boolean> createWorkspace(Workspace workspace, String identityHash) {
        Objects.requireNonNull(workspace, "workspace");
        Objects.requireNonNull(identityHash, "identityHash");
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                if (revisions.containsKey(workspace.name())) {
                    return false;
                }
                revisions.put(workspace.name(), new ArrayList<>(List.of(workspace)));
                identityHashByName.put(workspace.name(), identityHash);
                nameByIdentityHash.put(identityHash, workspace.name());
                return true;
            }
        });
    }

    @Override
    public Mono<Workspace> findWorkspace(String name) {
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                return current(name);
            }
        });
    }

    /** The workspace with its current scripts; null if none. Call holding the lock. */
    private Workspace current(String name) {
        List<Workspace> all = revisions.get(name);
        return all == null ? null : all.get(all.size() - 1);
    }

    @Override
    public Mono<Workspace> findWorkspace(String name, long scriptsRevision) {
        if (scriptsRevision < 1) {
            throw new IllegalArgumentException("scriptsRevision: from 1, was " + scriptsRevision);
        }
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                List<Workspace> all = revisions.get(name);
                return all == null || scriptsRevision > all.size() ? null : all.get((int) scriptsRevision - 1);
            }
        });
    }

    @Override
    public Mono<Long> scriptsRevision(String name) {
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                List<Workspace> all = revisions.get(name);
                return all == null ? null : (long) all.size();
            }
        });
    }

    @Override
    public Mono<Long> updateScripts(String name, long currentRevision, List<Script> startupScripts,
            List<Script> shutdownScripts) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(startupScripts, "startupScripts");
        Objects.requireNonNull(shutdownScripts, "shutdownScripts");
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                List<Workspace> all = revisions.get(name);
                if (all == null || all.size() != currentRevision) {
                    return null;
                }
                all.add(new Workspace(name, current(name).agentName(), startupScripts, shutdownScripts));
                return (long) all.size();
            }
        });
    }

    @Override
    public Flux<Workspace> listWorkspaces() {
        return Flux.defer(() -> {
            List<Workspace> all;
            synchronized (lock) {
                all = revisions.keySet().stream().map(this::current).toList();
            }
            return Flux.fromStream(all.stream().sorted(Comparator.comparing(Workspace::name)));
        });
    }

    @Override
    public Mono<StoredWorkspace> findByIdentityHash(String identityHash) {
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                String name = nameByIdentityHash.get(identityHash);
                return name == null ? null : new StoredWorkspace(current(name), identityHash);
            }
        });
    }

    @Override
    public Mono<Void> saveSessionToken(String tokenHash, AgentId agentId) {
        return Mono.fromRunnable(() -> tokens.put(tokenHash, new StoredSessionToken(tokenHash, agentId)));
    }

    @Override
    public Mono<StoredSessionToken> findSessionToken(String tokenHash) {
        return Mono.fromSupplier(() -> tokens.get(tokenHash));
    }

    @Override
    public Mono<Void> saveConnectionToken(String tokenHash, String workspace) {
        return Mono.fromRunnable(() -> connectionTokens.put(tokenHash, new StoredConnectionToken(tokenHash, workspace)));
    }

    @Override
    public Mono<StoredConnectionToken> findConnectionToken(String tokenHash) {
        return Mono.fromSupplier(() -> connectionTokens.get(tokenHash));
    }

    @Override
    public Mono<String> adminTokenHash() {
        return Mono.fromSupplier(adminTokenHash::get);
    }

    @Override
    public Mono<Boolean> initializeAdminTokenHash(String tokenHash) {
        Objects.requireNonNull(tokenHash, "tokenHash");
        return Mono.fromSupplier(() -> adminTokenHash.compareAndSet(null, tokenHash));
    }

    @Override
    public Mono<Void> replaceAdminTokenHash(String tokenHash) {
        Objects.requireNonNull(tokenHash, "tokenHash");
        return Mono.fromRunnable(() -> adminTokenHash.set(tokenHash));
    }

    @Override
    public Mono<Boolean> replaceIdentity(String name, String identityHash) {
        Objects.requireNonNull(identityHash, "identityHash");
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                String old = identityHashByName.get(name);
                if (old == null) {
                    return false;
                }
                nameByIdentityHash.remove(old);
                nameByIdentityHash.put(identityHash, name);
                identityHashByName.put(name, identityHash);
                return true;
            }
        });
    }

    @Override
    public Mono<Boolean> deleteWorkspace(String name) {
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                if (revisions.remove(name) == null) {
                    return false;
                }
                nameByIdentityHash.remove(identityHashByName.remove(name));
                return true;
            }
        });
    }

    @Override
    public Mono<Void> forgetCredentials(String workspace, Collection<AgentId> rows) {
        Objects.requireNonNull(workspace, "workspace");
        Set<AgentId> forgotten = Set.copyOf(rows);
        return Mono.fromRunnable(() -> {
            connectionTokens.values().removeIf(token -> token.workspace().equals(workspace));
            tokens.values().removeIf(token -> forgotten.contains(token.agentId()));
        });
    }
}
