package dev.agentcore.transport;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.control.AccessService;
import io.rsocket.ConnectionSetupPayload;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * Decides who a connection is from its SETUP frame: the keepalive it asks for must be within the
 * gate's bounds and the MIME types agentcore's, then its bearer token names the principal: none
 * (anonymous), the admin token, a connection token (a workspace, protocol v2) or a session token
 * (one row, protocol v1). A SETUP it refuses errors with INVALID_ARGUMENT or UNAUTHENTICATED.
 */
final class SetupAuthenticator {

    static final String UNKNOWN_TOKEN = "the bearer token is not the deployment's admin token, nor a "
            + "credential the control plane handed out that is still valid: an admin client needs the admin token "
            + "(the first control plane's admin.token, or the one 'admin rotate-token' printed); an agent exchanges "
            + "its instance identity again";

    private final AccessService access;
    private final ConnectionGate gate;

    /** Admin tokens are the deployment's, as the access service's store keeps them. */
    SetupAuthenticator(AccessService access, ConnectionGate gate) {
        this.access = access;
        this.gate = gate;
    }

    Mono<Principal> authenticate(ConnectionSetupPayload setup) {
        return Mono.defer(() -> {
            String keepAliveProblem = gate.limits().keepAliveProblem(setup.keepAliveInterval(),
                    setup.keepAliveMaxLifetime());
            if (keepAliveProblem != null) {
                gate.refused(ConnectionGate.Refusal.KEEPALIVE);
                return Mono.error(new AgentcoreException(ErrorCode.INVALID_ARGUMENT, keepAliveProblem));
            }
            if (!sameMediaType(WireMetadata.COMPOSITE, setup.metadataMimeType())) {
                return Mono.error(new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "metadata MIME type must be "
                        + WireMetadata.COMPOSITE + " (composite metadata; parameters after ';' are ignored), was '"
                        + setup.metadataMimeType() + "'"));
            }
            if (!sameMediaType(Routes.DATA_MIME_TYPE, setup.dataMimeType())) {
                return Mono.error(new AgentcoreException(ErrorCode.INVALID_ARGUMENT, "data MIME type must be "
                        + Routes.DATA_MIME_TYPE + " (protobuf messages of agentcore's schema; parameters after ';' "
                        + "are ignored), was '" + setup.dataMimeType() + "'"));
            }
            Optional<String> token = WireMetadata.bearerToken(setup.metadata());
            if (token.isEmpty()) {
                return Mono.just(new Principal.Anonymous());
            }
            // Agents' credentials first, the admin token last: agents connect by the thousand, admins rarely.
            return access.authenticateConnection(token.get()).<Principal>map(Principal.Workspace::new)
                    .switchIfEmpty(Mono.defer(() -> access.authenticate(token.get()).map(Principal.Agent::new)))
                    .onErrorResume(error -> error instanceof AgentcoreException refusal
                                    && refusal.code() == ErrorCode.UNAUTHENTICATED,
                            refusal -> access.isAdminToken(token.get()).flatMap(admin -> admin
                                    ? Mono.just(new Principal.Admin())
                                    // Whoever sent it, say what was checked: an admin client learns its token is
                                    // wrong, an agent that it must exchange its identity again (it acts on the code).
                                    : Mono.error(new AgentcoreException(ErrorCode.UNAUTHENTICATED, UNKNOWN_TOKEN))));
        });
    }

    /**
     * Whether {@code presented} names the media type {@code expected}: type and subtype compared
     * without regard to case (RFC 6838), parameters ({@code ; charset=...}, {@code ; proto=...}) ignored.
     */
    static boolean sameMediaType(String expected, String presented) {
        if (presented == null) {
            return false;
        }
        int parameters = presented.indexOf(';');
        String type = (parameters < 0 ? presented : presented.substring(0, parameters)).strip();
        return type.equalsIgnoreCase(expected);
    }
}
