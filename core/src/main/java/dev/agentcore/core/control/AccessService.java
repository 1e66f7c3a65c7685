package dev.agentcore.core.control;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.Script;
import dev.agentcore.core.internal.Randomness;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * Credentials on the control plane: creates workspaces with an instance identity, exchanges an
 * identity for a connection token bound to the workspace (protocol v2) or a session token bound
 * to the workspace's active row (protocol v1), resolves tokens, and binds a workspace's
 * connection to its active row.
 *
 * <p>Secrets are 256 random bits, handed out once and stored only as SHA-256 hashes; a presented
 * secret's hash is compared with the stored one in constant time. No message includes a secret.
 */
public final class AccessService {

    /** What an exchange returns: a fresh session token and the row it is bound to. */
    public record SessionGrant(String sessionToken, AgentId agentId) {
        public SessionGrant {
            Objects.requireNonNull(sessionToken, "sessionToken");
            Objects.requireNonNull(agentId, "agentId");
        }

        @Override
        public String toString() {
            return "SessionGrant[agentId=" + agentId + ", sessionToken=<secret>]";
        }
    }

    /** What a connection exchange returns: a fresh connection token and the workspace it authenticates. */
    public record ConnectionGrant(String connectionToken, String workspace) {
        public ConnectionGrant {
            Objects.requireNonNull(connectionToken, "connectionToken");
            Objects.requireNonNull(workspace, "workspace");
        }

        @Override
        public String toString() {
            return "ConnectionGrant[workspace=" + workspace + ", connectionToken=<secret>]";
        }
    }

    /**
     * Credentials this service revoked, for a server to end the connections they opened: a
     * workspace's (a new identity, or the workspace deleted) or the admin token (rotated).
     */
    public sealed interface Revocation {
        /** Every credential of this workspace: its old identity and what was handed out with it. */
        record WorkspaceCredentials(String workspace) implements Revocation {
            public WorkspaceCredentials {
                Objects.requireNonNull(workspace, "workspace");
            }
        }

        /** The deployment's admin token, replaced by a new one. */
        record AdminToken() implements Revocation {
        }
    }

    private final AgentStore rows;
    private final WorkspaceStore workspaces;
    /** What this service revoked, for the server to end the connections it authenticated. */
    private final Sinks.Many<Revocation> revoked = Sinks.many().multicast().directBestEffort();

    public AccessService(AgentStore rows, WorkspaceStore workspaces) {
        this.rows = Objects.requireNonNull(rows, "rows");
        this.workspaces = Objects.requireNonNull(workspaces, "workspaces");
        // Secrets are drawn on event loops: seed the generator here, where blocking is allowed.
        Randomness.seedNow();
    }

    /** Creates a workspace; emits its instance identity, a secret shown only this once. */
    public Mono<String> createWorkspace(Workspace workspace) {
        Objects.requireNonNull(workspace, "workspace");
        return Mono.defer(() -> {
            String identity = newSecret();
            return workspaces.createWorkspace(workspace, hash(identity)).flatMap(created -> created
                    ? Mono.just(identity)
                    : Mono.error(new AgentcoreException(ErrorCode.INVALID_ARGUMENT,
                            "workspace " + workspace.name() + " already exists")));
        });
    }

    /** Every workspace, by name. */
    public Flux<Workspace> workspaces() {
        return workspaces.listWorkspaces();
    }

    /** The workspace with this name; INVALID_ARGUMENT if there is none. */
    public Mono<Workspace> workspace(String name) {
        return workspaces.findWorkspace(name).switchIfEmpty(Mono.error(() -> notCreated(name)));
    }

    /**
     * Makes these the workspace's scripts for the builds started from now on (an empty
     * {@code Optional} keeps that phase's scripts), and emits the workspace as updated. The rows
     * already started keep the manifest they were started with. INVALID_ARGUMENT if there is no
     * such workspace.
     */
    public Mono<Workspace> updateScripts(String name, Optional<List<Script>> startupScripts,
            Optional<List<Script>> shutdownScripts) {
        Objects.requireNonNull(name, "name");
        Optional<List<Script>> startup = startupScripts.map(List::copyOf);
        Optional<List<Script>> shutdown = shutdownScripts.map(List::copyOf);
        return Mono.defer(() -> scriptsRevision(name)
                        .flatMap(current -> workspaces.findWorkspace(name, current)
                                .flatMap(workspace -> workspaces.updateScripts(name, current,
                                        startup.orElse(workspace.startupScripts()),
                                        shutdown.orElse(workspace.shutdownScripts())))
                                // Another update came first: merge into what it wrote.
                                .switchIfEmpty(Mono.error(LostUpdate.INSTANCE))))
                .retryWhen(Retry.indefinitely().filter(LostUpdate.class::isInstance))
                .flatMap(revision -> workspaces.findWorkspace(name, revision));
    }

    /** Another update of the workspace's scripts came between our read and our write: read again. */
    private static final class LostUpdate extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final LostUpdate INSTANCE = new LostUpdate();

        private LostUpdate() {
            super("lost a race to update a workspace's scripts", null, false, false);
        }
    }

    /**
     * The number of the workspace's current scripts revision: what a build started now records
     * ({@link LifecycleService#startBuild(String, long)}). INVALID_ARGUMENT if there is no such workspace.
     */
    public Mono<Long> scriptsRevision(String name) {
        Objects.requireNonNull(name, "name");
        return workspaces.scriptsRevision(name).switchIfEmpty(Mono.error(() -> notCreated(name)));
    }

    /**
     * Gives the workspace a new instance identity and emits it (a secret, shown only this once): the
     * old identity is refused from then on, and every credential handed out with it stops
     * authenticating. INVALID_ARGUMENT if there is no such workspace.
     */
    public Mono<String> rotateIdentity(String name) {
        Objects.requireNonNull(name, "name");
        return Mono.defer(() -> {
            String identity = newSecret();
            return workspaces.replaceIdentity(name, hash(identity))
                    .flatMap(replaced -> replaced ? revoke(name).thenReturn(identity) : Mono.error(noSuchWorkspace(name)));
        });
    }

    /**
     * Deletes the workspace: its identity is refused from then on and every credential handed out
     * for it stops authenticating; its rows stay, as history. Retire its active row first
     * ({@link LifecycleService#stopBuild}) so that its agent's channels end. INVALID_ARGUMENT if there
     * is no such workspace.
     */
    public Mono<Void> deleteWorkspace(String name) {
        Objects.requireNonNull(name, "name");
        return workspaces.deleteWorkspace(name)
                .flatMap(deleted -> deleted ? revoke(name) : Mono.error(noSuchWorkspace(name)));
    }

    /**
     * The credentials this service revokes from now on (a workspace's new identity or deletion, a
     * new admin token): a server ends the connections they authenticated. Each subscriber sees
     * what happens while it listens.
     */
    public Flux<Revocation> revocations() {
        return revoked.asFlux();
    }

    private Mono<Void> revoke(String workspace) {
        return rows.rows(workspace, Integer.MAX_VALUE).map(AgentRow::agentId).collectList()
                .flatMap(agentIds -> workspaces.forgetCredentials(workspace, agentIds))
                .then(Mono.fromRunnable(() -> announce(new Revocation.WorkspaceCredentials(workspace))));
    }

    private void announce(Revocation revocation) {
        // Two revocations at once: the later waits its turn (a moment); nobody listening (no
        // server): dropped, which is fine, as the credentials are gone.
        revoked.emitNext(revocation, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
    }

    /** Asked of a workspace that does not exist, where creating it is what to do. */
    private static AgentcoreException notCreated(String name) {
        return new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "no workspace named " + name + ": create it first");
    }

    private static AgentcoreException noSuchWorkspace(String name) {
        return new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "no workspace named " + name);
    }

    /**
     * Exchanges an instance identity for a session token bound to its workspace's active row.
     * UNAUTHENTICATED for an unknown identity; FENCED if the workspace has no active build.
     */
    public Mono<SessionGrant> exchange(String instanceIdentity) {
        Objects.requireNonNull(instanceIdentity, "instanceIdentity");
        return workspaceOf(instanceIdentity)
                .flatMap(workspace -> rows.latestRow(workspace)
                        .filter(AgentRow::active)
                        .switchIfEmpty(Mono.error(() -> new AgentcoreException(ErrorCode.FENCED,
                                "workspace " + workspace + " has no active build: start one")))
                        .flatMap(row -> {
                            String token = newSecret();
                            return workspaces.saveSessionToken(hash(token), row.agentId())
                                    .then(stillIdentifies(instanceIdentity, workspace))
                                    .thenReturn(new SessionGrant(token, row.agentId()));
                        }));
    }

    /**
     * Exchanges an instance identity for a connection token bound to its workspace, whatever its
     * rows: a connection authenticated with it outlives build boundaries. UNAUTHENTICATED for an
     * unknown identity.
     */
    public Mono<ConnectionGrant> exchangeForConnection(String instanceIdentity) {
        Objects.requireNonNull(instanceIdentity, "instanceIdentity");
        return workspaceOf(instanceIdentity).flatMap(workspace -> {
            String token = newSecret();
            return workspaces.saveConnectionToken(hash(token), workspace)
                    .then(stillIdentifies(instanceIdentity, workspace))
                    .thenReturn(new ConnectionGrant(token, workspace));
        });
    }

    /**
     * Checked after a token is saved: an identity replaced (or a workspace deleted) while the exchange
     * ran must not hand out a token the revocation's cleanup missed. A token saved that way is never
     * shown to anyone, so it authenticates nobody.
     */
    private Mono<Void> stillIdentifies(String instanceIdentity, String workspace) {
        return workspaceOf(instanceIdentity).flatMap(current -> current.equals(workspace) ? Mono.<Void>empty()
                : Mono.error(new AgentcoreException(ErrorCode.UNAUTHENTICATED, "unknown instance identity")));
    }

    /** The name of the workspace whose instance identity this is; UNAUTHENTICATED if none. */
    private Mono<String> workspaceOf(String instanceIdentity) {
        return Mono.defer(() -> {
            String presented = hash(instanceIdentity);
            return workspaces.findByIdentityHash(presented)
                    .filter(stored -> constantTimeEquals(stored.identityHash(), presented))
                    .map(stored -> stored.workspace().name())
                    .switchIfEmpty(Mono.error(() -> new AgentcoreException(ErrorCode.UNAUTHENTICATED,
                            "unknown instance identity")));
        });
    }

    /** The workspace a connection token authenticates; empty if it is not a connection token. */
    public Mono<String> authenticateConnection(String connectionToken) {
        Objects.requireNonNull(connectionToken, "connectionToken");
        return Mono.defer(() -> {
            String presented = hash(connectionToken);
            return workspaces.findConnectionToken(presented)
                    .filter(stored -> constantTimeEquals(stored.tokenHash(), presented))
                    .map(WorkspaceStore.StoredConnectionToken::workspace);
        });
    }

    /**
     * The row a connection of {@code workspace} may bind a lifecycle channel to: {@code agentId}, if
     * it is that workspace's and active. FENCED otherwise, with the same words whether the row is
     * retired, unknown or another workspace's, so that a connection learns nothing of other workspaces.
     */
    public Mono<AgentId> bind(String workspace, AgentId agentId) {
        Objects.requireNonNull(workspace, "workspace");
        Objects.requireNonNull(agentId, "agentId");
        // The recent picture binds without a round trip; a row it lags on is fenced when the write that
        // retired it arrives, as a channel bound just before would be. Refused only on the store's answer.
        return rows.recentRow(agentId)
                .filter(row -> row.active() && row.workspace().equals(workspace))
                .switchIfEmpty(Mono.defer(() -> rows.findRow(agentId)
                        .filter(row -> row.active() && row.workspace().equals(workspace))))
                .map(AgentRow::agentId)
                .switchIfEmpty(Mono.error(() -> new AgentcoreException(ErrorCode.FENCED, "agent row " + agentId
                        + " is retired or unknown: bind to the row of the workspace's latest manifest")));
    }

    /**
     * The manifest of an active row: its id, its workspace's agent name, and the scripts of the
     * revision its build started with (never what the workspace was updated to since).
     */
    public Mono<Manifest> manifestOf(AgentRow row) {
        Objects.requireNonNull(row, "row");
        return workspaces.findWorkspace(row.workspace(), row.scriptsRevision())
                .switchIfEmpty(Mono.error(() -> notCreated(row.workspace())))
                .map(workspace -> new Manifest(row.agentId(), workspace.name(), workspace.agentName(),
                        workspace.startupScripts(), workspace.shutdownScripts()));
    }

    /** The agent row a session token is bound to; UNAUTHENTICATED for an unknown token. */
    public Mono<AgentId> authenticate(String sessionToken) {
        Objects.requireNonNull(sessionToken, "sessionToken");
        return Mono.defer(() -> {
            String presented = hash(sessionToken);
            return workspaces.findSessionToken(presented)
                    .filter(stored -> constantTimeEquals(stored.tokenHash(), presented))
                    .map(WorkspaceStore.StoredSessionToken::agentId)
                    .switchIfEmpty(Mono.error(() -> new AgentcoreException(ErrorCode.UNAUTHENTICATED,
                            "unknown session token: exchange the instance identity for a new one")));
        });
    }

    /** The manifest for an agent row; FENCED if the row is retired or unknown. */
    public Mono<Manifest> manifest(AgentId agentId) {
        Objects.requireNonNull(agentId, "agentId");
        return rows.findRow(agentId)
                .filter(AgentRow::active)
                .switchIfEmpty(Mono.error(() -> new AgentcoreException(ErrorCode.FENCED,
                        "agent row " + agentId + " is retired or unknown: exchange the instance identity again")))
                .flatMap(this::manifestOf);
    }

    /**
     * Whether {@code token} is the deployment's admin token: the one every control plane on this
     * store accepts, compared by hash in constant time. False while none is set.
     */
    public Mono<Boolean> isAdminToken(String token) {
        Objects.requireNonNull(token, "token");
        return Mono.defer(() -> {
            String presented = hash(token);
            return workspaces.adminTokenHash().map(stored -> constantTimeEquals(stored, presented)).defaultIfEmpty(false);
        });
    }

    /**
     * Makes {@code token} the deployment's admin token unless it has one already (replicas
     * starting together: the first wins); emits whether it did.
     */
    public Mono<Boolean> initializeAdminToken(String token) {
        Objects.requireNonNull(token, "token");
        return Mono.defer(() -> workspaces.initializeAdminTokenHash(hash(token)));
    }

    /**
     * Gives the deployment a new admin token and emits it (a secret, shown only this once): every
     * control plane on this store refuses the old one from then on, and this one's server ends the
     * admin connections the old one opened ({@link #revocations()}).
     */
    public Mono<String> rotateAdminToken() {
        return Mono.defer(() -> {
            String token = newSecret();
            return workspaces.replaceAdminTokenHash(hash(token))
                    .then(Mono.fromRunnable(() -> announce(new Revocation.AdminToken())))
                    .thenReturn(token);
        });
    }

    /** A new secret: 256 random bits, base64url without padding. */
    public static String newSecret() {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Randomness.bytes(32));
    }

    /** The SHA-256 of a secret, in hex: what the stores keep. */
    public static String hash(String secret) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha256.digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** Compares two hashes in time independent of where they differ. */
    public static boolean constantTimeEquals(String expectedHash, String presentedHash) {
        return MessageDigest.isEqual(expectedHash.getBytes(StandardCharsets.US_ASCII),
                presentedHash.getBytes(StandardCharsets.US_ASCII));
    }
}
