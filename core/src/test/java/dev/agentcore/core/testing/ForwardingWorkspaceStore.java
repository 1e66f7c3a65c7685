package dev.agentcore.core.testing;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.core.control.WorkspaceStore;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A {@link WorkspaceStore} that forwards every call to another: tests override the calls they bend. */
public class ForwardingWorkspaceStore implements WorkspaceStore {

    protected final WorkspaceStore delegate;

    public ForwardingWorkspaceStore(WorkspaceStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public Mono<Boolean> createWorkspace(Workspace workspace, String identityHash) {
        return delegate.createWorkspace(workspace, identityHash);
    }

    @Override
    public Mono<Workspace> findWorkspace(String name) {
        return delegate.findWorkspace(name);
    }

    @Override
    public Mono<Workspace> findWorkspace(String name, long scriptsRevision) {
        return delegate.findWorkspace(name, scriptsRevision);
    }

    @Override
    public Mono<String> adminTokenHash() {
        return delegate.adminTokenHash();
    }

    @Override
    public Mono<Boolean> initializeAdminTokenHash(String tokenHash) {
        return delegate.initializeAdminTokenHash(tokenHash);
    }

    @Override
    public Mono<Void> replaceAdminTokenHash(String tokenHash) {
        return delegate.replaceAdminTokenHash(tokenHash);
    }

    @Override
    public Mono<Long> scriptsRevision(String name) {
        return delegate.scriptsRevision(name);
    }

    @Override
    public Mono<Long> updateScripts(String name, long currentRevision, java.util.List<dev.agentcore.core.Script> startupScripts,
            java.util.List<dev.agentcore.core.Script> shutdownScripts) {
        return delegate.updateScripts(name, currentRevision, startupScripts, shutdownScripts);
    }

    @Override
    public Flux<Workspace> listWorkspaces() {
        return delegate.listWorkspaces();
    }

    @Override
    public Mono<StoredWorkspace> findByIdentityHash(String identityHash) {
        return delegate.findByIdentityHash(identityHash);
    }

    @Override
    public Mono<Void> saveSessionToken(String tokenHash, AgentId agentId) {
        return delegate.saveSessionToken(tokenHash, agentId);
    }

    @Override
    public Mono<StoredSessionToken> findSessionToken(String tokenHash) {
        return delegate.findSessionToken(tokenHash);
    }

    @Override
    public Mono<Void> saveConnectionToken(String tokenHash, String workspace) {
        return delegate.saveConnectionToken(tokenHash, workspace);
    }

    @Override
    public Mono<StoredConnectionToken> findConnectionToken(String tokenHash) {
        return delegate.findConnectionToken(tokenHash);
    }

    @Override
    public Mono<Boolean> replaceIdentity(String name, String identityHash) {
        return delegate.replaceIdentity(name, identityHash);
    }

    @Override
    public Mono<Boolean> deleteWorkspace(String name) {
        return delegate.deleteWorkspace(name);
    }

    @Override
    public Mono<Void> forgetCredentials(String workspace, java.util.Collection<AgentId> rows) {
        return delegate.forgetCredentials(workspace, rows);
    }
}
