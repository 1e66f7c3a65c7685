package dev.agentcore.core.control;

import dev.agentcore.core.AgentId;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A {@link WorkspaceStore} in memory: for tests and demos. */
public final class InMemoryWorkspaceStore implements WorkspaceStore {

    private final Map<String, StoredWorkspace> byName = new ConcurrentHashMap<>();
    private final Map<String, StoredWorkspace> byIdentityHash = new ConcurrentHashMap<>();
    private final Map<String, StoredSessionToken> tokens = new ConcurrentHashMap<>();
    private final Map<String, StoredConnectionToken> connectionTokens = new ConcurrentHashMap<>();

    /** An empty store: no workspace, no token. */
    public InMemoryWorkspaceStore() {
    }

    @Override
    public Mono<Boolean> createWorkspace(Workspace workspace, String identityHash) {
        Objects.requireNonNull(workspace, "workspace");
        Objects.requireNonNull(identityHash, "identityHash");
        return Mono.fromSupplier(() -> {
            StoredWorkspace stored = new StoredWorkspace(workspace, identityHash);
            if (byName.putIfAbsent(workspace.name(), stored) != null) {
                return false;
            }
            byIdentityHash.put(identityHash, stored);
            return true;
        });
    }

    @Override
    public Mono<Workspace> findWorkspace(String name) {
        return Mono.fromSupplier(() -> byName.get(name)).map(StoredWorkspace::workspace);
    }

    @Override
    public Flux<Workspace> listWorkspaces() {
        return Flux.defer(() -> Flux.fromStream(byName.values().stream().map(StoredWorkspace::workspace)
                .sorted(java.util.Comparator.comparing(Workspace::name))));
    }

    @Override
    public Mono<StoredWorkspace> findByIdentityHash(String identityHash) {
        return Mono.fromSupplier(() -> byIdentityHash.get(identityHash));
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
    public Mono<Boolean> replaceIdentity(String name, String identityHash) {
        Objects.requireNonNull(identityHash, "identityHash");
        return Mono.fromSupplier(() -> {
            StoredWorkspace old = byName.get(name);
            if (old == null) {
                return false;
            }
            StoredWorkspace replaced = new StoredWorkspace(old.workspace(), identityHash);
            byIdentityHash.put(identityHash, replaced);
            byName.put(name, replaced);
            byIdentityHash.remove(old.identityHash());
            return true;
        });
    }

    @Override
    public Mono<Boolean> deleteWorkspace(String name) {
        return Mono.fromSupplier(() -> {
            StoredWorkspace removed = byName.remove(name);
            if (removed == null) {
                return false;
            }
            byIdentityHash.remove(removed.identityHash());
            return true;
        });
    }

    @Override
    public Mono<Void> forgetCredentials(String workspace, java.util.Collection<AgentId> rows) {
        Objects.requireNonNull(workspace, "workspace");
        java.util.Set<AgentId> forgotten = java.util.Set.copyOf(rows);
        return Mono.fromRunnable(() -> {
            connectionTokens.values().removeIf(token -> token.workspace().equals(workspace));
            tokens.values().removeIf(token -> forgotten.contains(token.agentId()));
        });
    }
}
