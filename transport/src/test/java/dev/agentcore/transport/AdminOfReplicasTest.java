package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.ADMIN_TOKEN;
import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.ControlPlaneServer.RunningControlPlane;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * Two control planes on one store (the fixture's, shared as replicas share a database), one of
 * them given no admin token: one admin token for both, an admin client that moves to the other
 * when its control plane stops.
 */
class AdminOfReplicasTest {

    private final ControlPlaneFixture first = new ControlPlaneFixture();
    private final RunningControlPlane second = ControlPlaneServer.builder(first.lifecycle, first.access)
            .tcp("127.0.0.1", 0).build().start().block(TIMEOUT);
    private final ControlPlaneAddress secondAddress = ControlPlaneAddress.tcp("127.0.0.1", second.tcpAddress().getPort());

    @AfterEach
    void stop() {
        second.disposeNow(TIMEOUT);
        first.close();
    }

    @Test
    void theAdminTokenTheFirstControlPlaneSetOpensTheOtherAndARotationThroughEitherRefusesItOnBoth() {
        try (AdminClient throughSecond = AdminClient.connect(secondAddress, ADMIN_TOKEN).block(TIMEOUT)) {
            assertThat(throughSecond.createWorkspace(Workspace.named("ws")).block(TIMEOUT)).isNotBlank();

            String rotated = throughSecond.rotateAdminToken().block(TIMEOUT);

            assertThat(rotated).isNotEqualTo(ADMIN_TOKEN);
            for (ControlPlaneAddress address : List.of(first.tcp(), secondAddress)) {
                try (AdminClient old = AdminClient.connect(address, ADMIN_TOKEN).block(TIMEOUT)) {
                    StepVerifier.create(old.workspace("ws"))
                            .expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(AgentcoreException.class,
                                    refusal -> {
                                        assertThat(refusal.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
                                        assertThat(refusal).hasMessageContaining("not the deployment's admin token");
                                    }))
                            .verify(TIMEOUT);
                }
                try (AdminClient renewed = AdminClient.connect(address, rotated).block(TIMEOUT)) {
                    assertThat(renewed.workspace("ws").block(TIMEOUT).name()).isEqualTo("ws");
                }
            }
        }
    }

    @Test
    void anAdminClientOfBothGoesOnThroughTheSecondWhenTheFirstStopsAndItsWatchFollows() {
        first.access.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
        first.lifecycle.startBuild("ws").block(TIMEOUT);
        try (AdminClient admin = AdminClient.connect(List.of(first.tcp(), secondAddress), ADMIN_TOKEN).block(TIMEOUT)) {
            Flux<AgentRow> watched = admin.watch("ws").replay().autoConnect(0);
            StepVerifier.create(watched.take(1)).assertNext(row -> assertThat(row.buildNumber()).isEqualTo(1))
                    .verifyComplete();

            first.stop(); // the control plane the client uses: its connection is cut

            // A read goes on through the second control plane, whenever the cut is noticed; a change
            // sent after that goes there too (one in flight at the cut would fail, not be sent twice).
            assertThat(admin.workspace("ws").block(TIMEOUT).name()).isEqualTo("ws");
            AgentRow second = admin.startBuild("ws").block(TIMEOUT);
            assertThat(second.buildNumber()).as("through the second control plane").isEqualTo(2);
            StepVerifier.create(watched.filter(row -> row.buildNumber() == 2).take(1))
                    .assertNext(row -> assertThat(row.state()).isEqualTo(LifecycleState.CREATED))
                    .verifyComplete();
        }
    }

    @Test
    void withNoControlPlaneAnsweringTheErrorNamesEach() {
        first.stop();
        second.disposeNow(TIMEOUT);

        StepVerifier.create(AdminClient.connect(List.of(first.tcp(), secondAddress), ADMIN_TOKEN))
                .expectErrorSatisfies(error -> assertThat(error).hasMessageStartingWith("no control plane answers: ")
                        .hasMessageContaining(first.tcp().toString()).hasMessageContaining(secondAddress.toString()))
                .verify(TIMEOUT);
    }
}
