package dev.agentcore.store;

import static dev.agentcore.store.TestDatabases.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.LifecycleService;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Two replicas' writers batch writes of the same rows at once, on one PostgreSQL database:
 * every applied update is one version of its row, none is lost or applied twice, and the batches
 * do not deadlock (rows are locked in id order); builds of the same workspaces collide on their
 * numbers (a batch that loses is tried again) and get distinct ones, leaving one active row each.
 */
class ReplicasRacingOnPostgresTest {

    private static final LifecycleState[] STATES = {LifecycleState.STARTING, LifecycleState.READY,
            LifecycleState.SHUTTING_DOWN, LifecycleState.OFF};

    /** Two replicas' stores on one fresh database, closed after {@code race}. */
    private static void onTwoReplicas(BiConsumer<R2dbcAgentStore, R2dbcAgentStore> race) {
        String url = TestDatabases.newPostgresDatabase();
        R2dbcAgentStore first = R2dbcAgentStore.open(url).block(TIMEOUT);
        R2dbcAgentStore second = R2dbcAgentStore.open(url).block(TIMEOUT);
        try {
            race.accept(first, second);
        } finally {
            first.close().block(TIMEOUT);
            second.close().block(TIMEOUT);
        }
    }

    @Test
    void batchesOfTwoReplicasOnTheSameRowsApplyEachUpdateOnce() {
        onTwoReplicas((first, second) -> {
            LifecycleService one = LifecycleService.builder(first).build();
            LifecycleService other = LifecycleService.builder(second).build();
            List<AgentRow> rows = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                rows.add(one.startBuild("ws-" + i).block(TIMEOUT));
            }
            // Per row, four writers (two per replica), each an agent process of its own walking its chain.
            List<Mono<Integer>> writers = new ArrayList<>();
            for (AgentRow row : rows) {
                for (int w = 0; w < 4; w++) {
                    LifecycleService service = w % 2 == 0 ? one : other;
                    ChainId chain = new ChainId("writer-" + w, 0);
                    writers.add(Flux.range(1, STATES.length)
                            .concatMap(seq -> service.apply(row.agentId(), new LifecycleUpdate(chain, seq, STATES[seq - 1],
                                            Instant.now(), false, null))
                                    .map(ack -> ack.outcome() == LifecycleAck.Outcome.APPLIED ? 1 : 0)
                                    .onErrorResume(AgentcoreException.class, refused -> {
                                        // Another writer's chain began on the row after this one's: one reporter per row.
                                        assertThat(refused.code()).isEqualTo(ErrorCode.SUPERSEDED);
                                        return Mono.just(0);
                                    }))
                            .reduce(0, Integer::sum));
                }
            }

            int applied = Flux.merge(writers).reduce(0, Integer::sum).block(TIMEOUT);

            long versionsWritten = 0;
            for (AgentRow row : rows) {
                versionsWritten += first.findRow(row.agentId()).block(TIMEOUT).version() - row.version();
            }
            assertThat(applied).isPositive();
            assertThat(versionsWritten).as("one version per applied update, none lost, none doubled")
                    .isEqualTo(applied);
        });
    }

    @Test
    void buildBatchesOfTwoReplicasOnTheSameWorkspacesNumberEachBuildOnceAndLeaveOneActiveRow() {
        onTwoReplicas((first, second) -> {
            int workspaces = 40;
            int buildsPerReplica = 3;
            // Each replica's writer takes one build per workspace per batch; both replicas' batches
            // cover the same workspaces, so they collide on build numbers and are retried.
            List<Mono<AgentRow>> builds = new ArrayList<>();
            for (int b = 0; b < buildsPerReplica; b++) {
                for (int i = 0; i < workspaces; i++) {
                    builds.add(first.startBuild("ws-" + i, 1, Instant.now()));
                    builds.add(second.startBuild("ws-" + (workspaces - 1 - i), 1, Instant.now()));
                }
            }

            List<AgentRow> created = Flux.merge(builds).collectList().block(TIMEOUT);

            assertThat(created).hasSize(2 * buildsPerReplica * workspaces);
            for (int i = 0; i < workspaces; i++) {
                String workspace = "ws-" + i;
                assertThat(created).filteredOn(row -> row.workspace().equals(workspace)).extracting(AgentRow::buildNumber)
                        .as(workspace).containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 5L, 6L);
                List<AgentRow> rows = first.rows(workspace, 10).collectList().block(TIMEOUT);
                assertThat(rows).as(workspace).filteredOn(AgentRow::active).extracting(AgentRow::buildNumber)
                        .containsExactly(6L);
            }
        });
    }
}
