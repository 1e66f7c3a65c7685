package dev.agentcore.core.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.testing.ForwardingAgentStore;
import dev.agentcore.core.testing.ForwardingWorkspaceStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** What the access service does around a new identity or a deleted workspace, where timing matters. */
class AccessServiceTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Test
    void anExchangeOvertakenByANewIdentityHandsOutNoToken() {
        AtomicReference<AccessService> access = new AtomicReference<>();
        // The identity is replaced after the exchange found its workspace and before it saved the
        // token: without a second look, the old identity's holder would get a token the rotation missed.
        WorkspaceStore racing = new ForwardingWorkspaceStore(new InMemoryWorkspaceStore()) {
            @Override
            public Mono<Void> saveConnectionToken(String tokenHash, String workspace) {
                return access.get().rotateIdentity(workspace).then(super.saveConnectionToken(tokenHash, workspace));
            }
        };
        access.set(new AccessService(new InMemoryAgentStore(), racing));
        String identity = access.get().createWorkspace(Workspace.named("ws")).block(TIMEOUT);

        assertThatThrownBy(() -> access.get().exchangeForConnection(identity).block(TIMEOUT))
                .isInstanceOfSatisfying(AgentcoreException.class,
                        error -> assertThat(error.code()).isEqualTo(ErrorCode.UNAUTHENTICATED));
    }

    @Test
    void revocationsAreAnnouncedToWhoListens() {
        AccessService access = new AccessService(new InMemoryAgentStore(), new InMemoryWorkspaceStore());
        access.createWorkspace(Workspace.named("a")).block(TIMEOUT);
        access.createWorkspace(Workspace.named("b")).block(TIMEOUT);
        access.rotateIdentity("a").block(TIMEOUT); // nobody listens yet: nothing fails
        List<AccessService.Revocation> heard = new CopyOnWriteArrayList<>();
        var listening = access.revocations().subscribe(heard::add);

        access.rotateIdentity("b").block(TIMEOUT);
        access.deleteWorkspace("a").block(TIMEOUT);
        access.initializeAdminToken("first").block(TIMEOUT);
        access.rotateAdminToken().block(TIMEOUT);

        assertThat(heard).containsExactly(new AccessService.Revocation.WorkspaceCredentials("b"),
                new AccessService.Revocation.WorkspaceCredentials("a"), new AccessService.Revocation.AdminToken());
        listening.dispose();
    }

    @Test
    void aBindingIsRefusedOnlyOnTheStoresAnswerNotOnALaggingPicture() {
        InMemoryAgentStore rows = new InMemoryAgentStore();
        AtomicReference<AgentRow> picture = new AtomicReference<>();
        // A replica's picture of a row can lag: missing (another replica created it) or older.
        AgentStore lagging = new ForwardingAgentStore(rows) {
            @Override
            public Mono<AgentRow> recentRow(AgentId agentId) {
                return Mono.justOrEmpty(picture.get());
            }
        };
        AccessService access = new AccessService(lagging, new InMemoryWorkspaceStore());
        access.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
        access.createWorkspace(Workspace.named("other")).block(TIMEOUT);
        AgentRow first = rows.startBuild("ws", 1, Instant.EPOCH).block(TIMEOUT);

        assertThat(access.bind("ws", first.agentId()).block(TIMEOUT)).as("not in the picture yet").isEqualTo(first.agentId());
        picture.set(first.retired());
        assertThat(access.bind("ws", first.agentId()).block(TIMEOUT)).as("retired in the picture only")
                .isEqualTo(first.agentId());
        assertThatThrownBy(() -> access.bind("other", first.agentId()).block(TIMEOUT)).as("another workspace's row")
                .isInstanceOfSatisfying(AgentcoreException.class, error -> assertThat(error.code()).isEqualTo(ErrorCode.FENCED));

        picture.set(null);
        rows.startBuild("ws", 1, Instant.EPOCH).block(TIMEOUT);
        assertThatThrownBy(() -> access.bind("ws", first.agentId()).block(TIMEOUT)).as("retired in the store")
                .isInstanceOfSatisfying(AgentcoreException.class, error -> assertThat(error.code()).isEqualTo(ErrorCode.FENCED));
    }
}
