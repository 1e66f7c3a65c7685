package dev.agentcore.core.control;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.Script;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where the control plane keeps workspaces and credentials. Secrets are never stored, only
 * their hashes (see {@link AccessService}).
 */
public interface WorkspaceStore {

    /** A workspace with the hash of its instance identity. */
    record StoredWorkspace(Workspace workspace, String identityHash) {
    }

    /** A session token's hash and the agent row it is bound to. */
    record StoredSessionToken(String tokenHash, AgentId agentId) {
    }

    /** A connection token's hash and the workspace it authenticates (protocol v2: not bound to a row). */
    record StoredConnectionToken(String tokenHash, String workspace) {
    }

    /** Creates the workspace; emits false if one with that name exists (nothing changes then). */
    Mono<Boolean> createWorkspace(Workspace workspace, String identityHash);

    /** The workspace with this name, with its current scripts; empty if none. */
    Mono<Workspace> findWorkspace(String name);

    /**
     * The workspace with that revision of its scripts (from 1: the scripts it was created with);
     * empty if there is no such workspace or revision.
     */
    Mono<Workspace> findWorkspace(String name, long scriptsRevision);

    /** The number of the workspace's current scripts revision; empty if there is no such workspace. */
    Mono<Long> scriptsRevision(String name);

    /**
     * Writes these scripts as the workspace's revision {@code currentRevision + 1}, for builds
     * started from then on, if {@code currentRevision} is still its current one (a revision, once
     * written, never changes); emits the new number, or nothing if there is no such workspace or
     * another update came first.
     */
    Mono<Long> updateScripts(String name, long currentRevision, List<Script> startupScripts,
            List<Script> shutdownScripts);

    /** Every workspace, by name in ascending order. */
    Flux<Workspace> listWorkspaces();

    /** The workspace whose instance identity has this hash; empty if none. */
    Mono<StoredWorkspace> findByIdentityHash(String identityHash);

    /** Records a session token, by its hash, bound to one agent row. */
    Mono<Void> saveSessionToken(String tokenHash, AgentId agentId);

    /** The session token with this hash; empty if none. */
    Mono<StoredSessionToken> findSessionToken(String tokenHash);

    /** Records a connection token, by its hash, bound to one workspace. */
    Mono<Void> saveConnectionToken(String tokenHash, String workspace);

    /** The connection token with this hash; empty if none. */
    Mono<StoredConnectionToken> findConnectionToken(String tokenHash);

    /** The hash of the deployment's admin token; empty until one is set. */
    Mono<String> adminTokenHash();

    /** Sets the deployment's admin token, by its hash, unless one is set already; emits whether this call set it. */
    Mono<Boolean> initializeAdminTokenHash(String tokenHash);

    /** Replaces the deployment's admin token, by its hash (sets it if none was). */
    Mono<Void> replaceAdminTokenHash(String tokenHash);

    /** Gives the workspace a new instance identity, by its hash; emits false if there is no such workspace. */
    Mono<Boolean> replaceIdentity(String name, String identityHash);

    /** Deletes the workspace and every revision of its scripts (its rows stay, as history); emits false if there was none. */
    Mono<Boolean> deleteWorkspace(String name);

    /**
     * Forgets every credential handed out for the workspace: its connection tokens, and the session
     * tokens of these rows (its rows). Once it completes, none of them authenticates any more.
     */
    Mono<Void> forgetCredentials(String workspace, java.util.Collection<AgentId> rows);
}
