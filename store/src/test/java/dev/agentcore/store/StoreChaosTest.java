package dev.agentcore.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.store.R2dbcAgentStore.Dialect;
import io.r2dbc.spi.ConnectionFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Thousands of writes against a real database, each step of each write delayed a seeded random
 * few milliseconds and half of the callers cancelled at a random moment: once it settles, every
 * acknowledged update is in the store exactly once, nothing is half-applied (one active row per
 * workspace, build numbers without gaps, every row as its last published write), and no
 * connection is left taken. {@code -Dagentcore.storeChaos.seed=S} reproduces a failure.
 */
class StoreChaosTest {

    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final LifecycleState[] CYCLE = {LifecycleState.STARTING, LifecycleState.READY,
            LifecycleState.SHUTTING_DOWN, LifecycleState.OFF};

    @TempDir
    Path directory;

    /** What the caller of one update saw. */
    record Acked(AgentId agentId, ChainId chain, long seq, LifecycleAck.Outcome outcome) {
    }

    /** One workspace's agent: its chain and next seq, advanced only on an acknowledgement. */
    static final class Agent {
        final String workspace;
        long generation;
        long nextSeq = 1;
        AgentId agentId;

        Agent(String workspace, AgentId agentId) {
            this.workspace = workspace;
            this.agentId = agentId;
        }

        ChainId chain() {
            return new ChainId(workspace + "-incarnation", generation);
        }

        void acknowledged() {
            if (++nextSeq > CYCLE.length) {
                generation++;
                nextSeq = 1;
            }
        }

        void movedTo(AgentId newAgentId) {
            agentId = newAgentId;
            generation++;
            nextSeq = 1;
        }
    }

    @ParameterizedTest
    @EnumSource(Dialect.class)
    void cancelledWritesAreNeverLostDoubledOrHalfApplied(Dialect dialect) {
        long seed = Long.getLong("agentcore.storeChaos.seed", System.nanoTime());
        int workspaces = Integer.getInteger("agentcore.storeChaos.workspaces", 40);
        int opsPerWorkspace = Integer.getInteger("agentcore.storeChaos.ops", 60);
        System.out.printf("StoreChaosTest %s: %d writes, seed %d (-Dagentcore.storeChaos.seed=%d)%n",
                dialect, workspaces * opsPerWorkspace, seed, seed);
        Random random = new Random(seed);
        ConnectionFactory database = TestDatabases.connectionFactory(dialect, directory);
        SteppedConnectionFactory stepped = new SteppedConnectionFactory(database);
        R2dbcAgentStore store = R2dbcAgentStore.open(stepped, database, dialect).block(DEADLINE);
        ConcurrentLinkedQueue<AgentRow> published = new ConcurrentLinkedQueue<>();
        Disposable watching = store.changes().subscribe(published::add);
        ConcurrentLinkedQueue<Acked> acks = new ConcurrentLinkedQueue<>();
        LifecycleService service = LifecycleService.builder(store).build();
        try {
            List<Agent> agents = new ArrayList<>();
            List<List<long[]>> plans = new ArrayList<>();
            for (int w = 0; w < workspaces; w++) {
                String name = "ws-" + w;
                agents.add(new Agent(name, service.startBuild(name).block(DEADLINE).agentId()));
                // Per op: build (1 in 20) or update, and after how many microseconds its caller cancels (-1: never).
                List<long[]> plan = new ArrayList<>();
                for (int op = 0; op < opsPerWorkspace; op++) {
                    plan.add(new long[] {random.nextInt(20) == 0 ? 1 : 0,
                            random.nextBoolean() ? random.nextInt(6_000) : -1});
                }
                plans.add(plan);
            }
            stepped.jitter(new Random(seed + 1), 2);

            Flux.range(0, workspaces).flatMap(w -> {
                Agent agent = agents.get(w);
                return Flux.fromIterable(plans.get(w)).concatMap(op -> {
                    Mono<?> write = op[0] == 1
                            ? service.startBuild(agent.workspace).doOnNext(row -> agent.movedTo(row.agentId()))
                            : update(service, agent, acks);
                    if (op[1] >= 0) {
                        write = write.take(Duration.ofNanos(op[1] * 1000));
                    }
                    return write.onErrorResume(AgentcoreException.class, refused -> Mono.empty()).then();
                });
            }, workspaces).blockLast(DEADLINE);
            stepped.noJitter();
            awaitQuiet(store, published);

            checkInvariants(store, agents, acks, published);
            System.out.printf("StoreChaosTest %s: %d acks, %d published writes, seed %d%n", dialect, acks.size(),
                    published.size(), seed);
        } finally {
            watching.dispose();
            store.close().block(DEADLINE);
        }
    }

    private static Mono<LifecycleAck> update(LifecycleService service, Agent agent, ConcurrentLinkedQueue<Acked> acks) {
        return Mono.defer(() -> {
            AgentId agentId = agent.agentId;
            ChainId chain = agent.chain();
            long seq = agent.nextSeq;
            LifecycleUpdate update = new LifecycleUpdate(chain, seq, CYCLE[(int) seq - 1], Instant.now(), false, null);
            return service.apply(agentId, update).doOnNext(ack -> {
                acks.add(new Acked(agentId, chain, seq, ack.outcome()));
                agent.acknowledged();
            });
        });
    }

    /** Waits until no connection is taken and nothing new was published for a while. */
    private static void awaitQuiet(R2dbcAgentStore store, ConcurrentLinkedQueue<AgentRow> published) {
        int[] last = {-1};
        int[] quietTicks = {0};
        Flux.interval(Duration.ofMillis(50))
                .filter(tick -> {
                    int now = published.size();
                    quietTicks[0] = now == last[0] && store.connectionsInUse() == 0 ? quietTicks[0] + 1 : 0;
                    last[0] = now;
                    return quietTicks[0] >= 10;
                })
                .next()
                .timeout(DEADLINE, Mono.error(() -> new AssertionError(
                        "the store did not settle: connections in use " + store.connectionsInUse())))
                .block();
    }

    private static void checkInvariants(R2dbcAgentStore store, List<Agent> agents, ConcurrentLinkedQueue<Acked> acks,
            ConcurrentLinkedQueue<AgentRow> published) {
        // Each row's versions as published, one picture per version.
        Map<AgentId, Map<Long, AgentRow>> versions = new HashMap<>();
        for (AgentRow row : published) {
            AgentRow earlier = versions.computeIfAbsent(row.agentId(), id -> new HashMap<>()).put(row.version(), row);
            assertThat(earlier == null || earlier.equals(row)).as("two pictures of %s v%d", row.agentId(), row.version())
                    .isTrue();
        }
        // No (chain, seq) applied twice to a row: every version carries a different one.
        Map<String, Long> appliedAt = new HashMap<>();
        versions.forEach((id, byVersion) -> byVersion.values().stream().filter(row -> row.lastChain() != null)
                .forEach(row -> {
                    Long other = appliedAt.putIfAbsent(id + "/" + row.lastChain() + "#" + row.lastSeq(), row.version());
                    if (other != null) {
                        // The same (chain, seq) stays on the row while only other fields change (retirement).
                        AgentRow first = byVersion.get(Math.min(other, row.version()));
                        AgentRow second = byVersion.get(Math.max(other, row.version()));
                        assertThat(second.state()).as("applied twice: %s and %s", first, second).isEqualTo(first.state());
                        assertThat(first.active() && !second.active()).as("applied twice: %s and %s", first, second)
                                .isTrue();
                    }
                }));
        // Nothing acknowledged is lost.
        for (Acked ack : acks) {
            assertThat(appliedAt).as("acknowledged (%s) but never written: %s", ack.outcome(), ack)
                    .containsKey(ack.agentId() + "/" + ack.chain() + "#" + ack.seq());
        }
        // Nothing half-applied: one active row per workspace, build numbers without gaps, and every row
        // as its last published write.
        for (Agent agent : agents) {
            List<AgentRow> rows = store.rows(agent.workspace, 1000).collectList().block(DEADLINE);
            assertThat(rows).filteredOn(AgentRow::active).as("active rows of %s", agent.workspace).hasSize(1);
            assertThat(rows.get(0).active()).isTrue();
            for (int i = 0; i < rows.size(); i++) {
                AgentRow row = rows.get(i);
                assertThat(row.buildNumber()).isEqualTo(rows.size() - i);
                Map<Long, AgentRow> byVersion = versions.getOrDefault(row.agentId(), Map.of());
                assertThat(byVersion.get(row.version())).as("the stored row was published").isEqualTo(row);
                assertThat(byVersion.keySet()).as("versions of %s published", row.agentId())
                        .allMatch(version -> version <= row.version());
            }
        }
        assertThat(store.connectionsInUse()).as("connections left taken").isZero();
    }

}
