package dev.agentcore.transport;

import static dev.agentcore.transport.ControlPlaneFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.agent.AgentSession;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Many agents in one JVM (a multi-agent host, the storm harness) each hold a connection of their
 * own. reactor-netty's default client pool allows 500 per address and queues the rest without a
 * word; the connector must not use it.
 */
class ManyAgentsInOneJvmTest {

    private static final int AGENTS = 600;

    @Test
    void sixHundredAgentsHoldSessionsAtTheSameTime() {
        // Six hundred agents from one address, all connecting at once: more than the per-address cap on
        // unauthenticated connections, which is meant for strangers, allows (ExhaustionTest holds that cap).
        try (ControlPlaneFixture fixture = new ControlPlaneFixture(
                builder -> builder.connectionLimits(10_000, 2 * AGENTS, 2 * AGENTS))) {
            List<String> identities = Flux.range(0, AGENTS).map(i -> fixture.workspaceWithBuild("ws-" + i)).collectList()
                    .block(TIMEOUT);
            List<Disposable> running = new CopyOnWriteArrayList<>();
            try {
                Flux<AgentSession> firstSessions = Flux.fromIterable(identities)
                        .flatMap(identity -> Mono.<AgentSession>create(sink -> running.add(
                                AgentConnector.builder(fixture.tcp(), identity).build().sessions()
                                        .subscribe(sink::success, sink::error))), AGENTS);
                StepVerifier.create(firstSessions.map(session -> session.manifest().agentId()).distinct().count())
                        .expectNext((long) AGENTS)
                        .expectComplete().verify(TIMEOUT);
                assertThat(fixture.openConnections()).isGreaterThanOrEqualTo(AGENTS);
            } finally {
                running.forEach(Disposable::dispose);
            }
        }
    }
}
