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

    /** Guards the workspaces and their revisions, which change together. */
    private final Object lock = new Object();
    private final Map<String, StoredWorkspace> byName = new HashMap<>();
    private final Map<String, StoredWorkspace> byIdentityHash = new HashMap<>();
    /** Every revision of each workspace's scripts, revision n at index n - 1; the last is the current one. */
    private final Map<String, List<Workspace>> revisions = new HashMap<>();
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
                if (byName.containsKey(workspace.name())) {
                    return false;
                }
                StoredWorkspace stored = new StoredWorkspace(workspace, identityHash);
                byName.put(workspace.name(), stored);
                byIdentityHash.put(identityHash, stored);
                revisions.put(workspace.name(), new ArrayList<>(List.of(workspace)));
                return true;
            }
        });
    }

    @Override
    public Mono<Workspace> findWorkspace(String name) {
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                StoredWorkspace stored = byName.get(name);
                return stored == null ? null : stored.workspace();
            }
        });
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
                StoredWorkspace old = byName.get(name);
                if (old == null || revisions.get(name).size() != currentRevision) {
                    return null;
                }
                Workspace next = new Workspace(name, old.workspace().agentName(), startupScripts, shutdownScripts);
                StoredWorkspace stored = new StoredWorkspace(next, old.identityHash());
                byName.put(name, stored);
                byIdentityHash.put(old.identityHash(), stored);
                List<Workspace> all = revisions.get(name);
                all.add(next);
                return (long) all.size();
            }
        });
    }

    @Override
    public Flux<Workspace> listWorkspaces() {
        return Flux.defer(() -> {
            List<Workspace> all;
            synchronized (lock) {
                all = byName.values().stream().map(StoredWorkspace::workspace).toList();
            }
            return Flux.fromStream(all.stream().sorted(Comparator.comparing(Workspace::name)));
        });
    }

    @Override
    public Mono<StoredWorkspace> findByIdentityHash(String identityHash) {
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                return byIdentityHash.get(identityHash);
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
                StoredWorkspace old = byName.get(name);
                if (old == null) {
                    return false;
                }
                StoredWorkspace replaced = new StoredWorkspace(old.workspace(), identityHash);
                byIdentityHash.remove(old.identityHash());
                byIdentityHash.put(identityHash, replaced);
                byName.put(name, replaced);
                return true;
            }
        });
    }

    @Override
    public Mono<Boolean> deleteWorkspace(String name) {
        return Mono.fromSupplier(() -> {
            synchronized (lock) {
                StoredWorkspace removed = byName.remove(name);
                if (removed == null) {
                    return false;
                }
                byIdentityHash.remove(removed.identityHash());
                revisions.remove(name);
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
