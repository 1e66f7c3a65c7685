package dev.agentcore.core.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.Script;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.AgentStore;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.core.control.WorkspaceStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * What every {@link AgentStore} and {@link WorkspaceStore} must do, run against each one: the
 * in-memory store, H2 and PostgreSQL. Subclasses provide fresh, empty stores.
 */
public abstract class AgentStoreContract {

    protected static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ChainId CHAIN = new ChainId("incarnation-1", 0);

    protected final MutableClock clock = MutableClock.at("2026-01-01T10:00:00Z");
    private AgentStore store;
    private WorkspaceStore workspaces;
    private LifecycleService service;
    private ExecutorService pool;

    /** A fresh, empty store; the same object may serve as both stores. */
    protected abstract AgentStore newAgentStore();

    /** The workspace store that goes with {@link #newAgentStore()}'s latest store. */
    protected abstract WorkspaceStore workspaceStore();

    @BeforeEach
    void createStore() {
        store = newAgentStore();
        workspaces = workspaceStore();
        service = LifecycleService.builder(store).clock(clock).build();
        pool = Executors.newFixedThreadPool(8);
    }

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    private AgentRow build(String workspace) {
        return service.startBuild(workspace).block(TIMEOUT);
    }

    private AgentRow row(AgentId agentId) {
        return store.findRow(agentId).block(TIMEOUT);
    }

    private static LifecycleUpdate update(ChainId chain, long seq, LifecycleState state, Instant at) {
        return new LifecycleUpdate(chain, seq, state, at, false, null);
    }

    @Test
    void startBuildCreatesTheNextRowAtCreatedAndRetiresThePreviousOne() {
        AgentRow first = build("ws");
        clock.advance(Duration.ofSeconds(1));
        AgentRow second = build("ws");

        assertThat(first).isEqualTo(AgentRow.created(first.agentId(), "ws", 1, first.createdAt(), 1));
        assertThat(second.buildNumber()).isEqualTo(2);
        assertThat(second.createdAt()).isEqualTo(clock.instant());
        assertThat(row(first.agentId())).isEqualTo(first.retired());
        assertThat(row(second.agentId())).isEqualTo(second);
        assertThat(store.rows("ws", 10).collectList().block(TIMEOUT)).extracting(AgentRow::buildNumber)
                .containsExactly(2L, 1L);
        assertThat(store.latestRow("ws").block(TIMEOUT)).isEqualTo(second);
        assertThat(store.latestRow("other").blockOptional(TIMEOUT)).isEmpty();
    }

    @Test
    void stopBuildRetiresTheActiveRowOnce() {
        AgentRow first = build("ws");

        assertThat(store.stopBuild("ws").block(TIMEOUT)).isEqualTo(first.retired());
        assertThat(store.stopBuild("ws").blockOptional(TIMEOUT)).isEmpty();
        assertThat(row(first.agentId()).active()).isFalse();
    }

    @Test
    void compareAndSetWritesOnlyOverTheExpectedVersion() {
        AgentRow created = build("ws");
        Instant at = clock.instant().plusNanos(123_456_789);
        AgentRow next = new AgentRow(created.agentId(), "ws", 1, created.createdAt(), LifecycleState.STARTING, at, null,
                CHAIN, 1, true, false, created.version() + 1, 1);

        assertThat(store.compareAndSet(created, next).block(TIMEOUT)).isTrue();
        assertThat(store.compareAndSet(created, next).block(TIMEOUT)).isFalse();
        assertThat(row(created.agentId())).isEqualTo(next); // nanosecond timestamps survive the round trip
    }

    @Test
    void compareAndSetsAskedTogetherWriteExactlyThoseAtTheirExpectedVersion() {
        List<AgentRow> created = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            created.add(build("ws-" + i));
        }
        // Every third write expects a version its row is not at: it must write nothing, the others must write.
        List<reactor.core.publisher.Mono<Boolean>> writes = new ArrayList<>();
        List<AgentRow> expected = new ArrayList<>();
        for (int i = 0; i < created.size(); i++) {
            AgentRow row = created.get(i);
            AgentRow base = i % 3 == 0 ? new AgentRow(row.agentId(), row.workspace(), 1, row.createdAt(), row.state(), null,
                    null, null, 0, true, false, row.version() + 5, 1) : row;
            AgentRow next = new AgentRow(row.agentId(), row.workspace(), 1, row.createdAt(), LifecycleState.STARTING,
                    clock.instant(), null, CHAIN, 1, true, false, base.version() + 1, 1);
            writes.add(store.compareAndSet(base, next));
            expected.add(i % 3 == 0 ? row : next);
        }

        List<Boolean> outcomes = reactor.core.publisher.Flux.mergeSequential(writes).collectList().block(TIMEOUT);

        for (int i = 0; i < created.size(); i++) {
            assertThat(outcomes.get(i)).as("write %d", i).isEqualTo(i % 3 != 0);
            assertThat(row(created.get(i).agentId())).isEqualTo(expected.get(i));
        }
    }

    @Test
    void changesCarryEveryWrite() {
        List<AgentRow> seen = new ArrayList<>();
        Disposable watching = store.changes().subscribe(row -> {
            synchronized (seen) {
                seen.add(row);
            }
        });
        AgentRow first = build("ws");
        service.apply(first.agentId(), update(CHAIN, 1, LifecycleState.STARTING, clock.instant())).block(TIMEOUT);
        AgentRow second = build("ws");

        StepVerifier.create(service.watch("ws").filter(row -> row.agentId().equals(second.agentId())).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
        watching.dispose();
        synchronized (seen) {
            // A store may deliver a write more than once (PostgreSQL: locally and by NOTIFY); never less.
            assertThat(Set.copyOf(seen.stream().map(row -> row.agentId() + "v" + row.version()).toList()))
                    .contains(first.agentId() + "v1", first.agentId() + "v2", first.agentId() + "v3", second.agentId() + "v1");
        }
    }

    @Test
    void aWriteWhoseCallerCancelsRunsToItsEndAndIsPublished() {
        AgentRow created = build("ws");
        AgentRow next = new AgentRow(created.agentId(), "ws", 1, created.createdAt(), LifecycleState.STARTING,
                clock.instant(), null, CHAIN, 1, true, false, created.version() + 1, 1);

        // Each caller leaves as soon as it has asked: the store has taken the write, which runs to its end.
        store.compareAndSet(created, next).subscribe().dispose();
        StepVerifier.create(service.watch("ws").filter(row -> row.version() == next.version()).take(1))
                .expectNext(next).expectComplete().verify(TIMEOUT);
        store.startBuild("ws", 1, clock.instant()).subscribe().dispose();
        StepVerifier.create(service.watch("ws").filter(row -> row.buildNumber() == 2).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
        store.stopBuild("ws").subscribe().dispose();
        StepVerifier.create(service.watch("ws").filter(row -> row.buildNumber() == 2 && !row.active()).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);

        assertThat(row(created.agentId())).isEqualTo(next.retired());
    }

    @Test
    void duplicatesWriteNothing() {
        AgentRow created = build("ws");
        service.apply(created.agentId(), update(CHAIN, 1, LifecycleState.STARTING, clock.instant())).block(TIMEOUT);
        long version = row(created.agentId()).version();

        LifecycleAck again = service.apply(created.agentId(), update(CHAIN, 1, LifecycleState.STARTING, clock.instant()))
                .block(TIMEOUT);

        assertThat(again.outcome()).isEqualTo(LifecycleAck.Outcome.DUPLICATE);
        assertThat(row(created.agentId()).version()).isEqualTo(version);
    }

    @Test
    void retiredRowRefusesWrites() {
        AgentRow old = build("ws");
        build("ws");

        StepVerifier.create(service.apply(old.agentId(), update(CHAIN, 1, LifecycleState.STARTING, clock.instant())))
                .expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(AgentcoreException.class,
                        refusal -> assertThat(refusal.code()).isEqualTo(ErrorCode.FENCED)))
                .verify(TIMEOUT);
        assertThat(row(old.agentId())).isEqualTo(old.retired());
    }

    @Test
    void concurrentLifecycleWritesToOneRowEndInAConsistentRow() throws Exception {
        AgentRow created = build("ws");
        TreeMap<Long, AgentRow> versions = new TreeMap<>();
        Disposable watching = store.changes().filter(row -> row.agentId().equals(created.agentId())).subscribe(row -> {
            synchronized (versions) {
                versions.put(row.version(), row);
            }
        });
        // Eight writers, each its own agent process (chain), race through startup on one row.
        List<Callable<Integer>> writers = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            ChainId chain = new ChainId("writer-" + w, 0);
            writers.add(() -> {
                int applied = 0;
                LifecycleState[] states = {LifecycleState.STARTING, LifecycleState.READY, LifecycleState.SHUTTING_DOWN};
                for (int seq = 1; seq <= states.length; seq++) {
                    try {
                        LifecycleAck ack = service.apply(created.agentId(), update(chain, seq, states[seq - 1],
                                clock.instant())).block(TIMEOUT);
                        applied += ack.outcome() == LifecycleAck.Outcome.APPLIED ? 1 : 0;
                    } catch (AgentcoreException refused) {
                        // Another writer's chain began on the row after this one's: one reporter per row.
                        assertThat(refused.code()).isEqualTo(ErrorCode.SUPERSEDED);
                    }
                }
                return applied;
            });
        }
        int applied = 0;
        for (Future<Integer> result : pool.invokeAll(writers, 60, TimeUnit.SECONDS)) {
            applied += result.get();
        }

        AgentRow last = row(created.agentId());
        assertThat(applied).isPositive();
        assertThat(last.version()).as("one version per applied write, none lost").isEqualTo(created.version() + applied);
        StepVerifier.create(service.watch("ws").filter(row -> row.version() == last.version()).take(1))
                .expectNextCount(1).expectComplete().verify(TIMEOUT);
        watching.dispose();
        synchronized (versions) {
            assertThat(versions.keySet()).containsExactlyElementsOf(
                    java.util.stream.LongStream.rangeClosed(2, last.version()).boxed().toList());
            assertThat(versions.lastEntry().getValue()).isEqualTo(last);
        }
    }

    @Test
    void concurrentBuildsOfOneWorkspaceGetDistinctNumbersAndLeaveOneActiveRow() throws Exception {
        List<Callable<AgentRow>> builds = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            builds.add(() -> build("ws"));
        }
        Set<Long> numbers = ConcurrentHashMap.newKeySet();
        for (Future<AgentRow> result : pool.invokeAll(builds, 60, TimeUnit.SECONDS)) {
            numbers.add(result.get().buildNumber());
        }

        assertThat(numbers).containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 5L, 6L);
        List<AgentRow> rows = store.rows("ws", 10).collectList().block(TIMEOUT);
        assertThat(rows).filteredOn(AgentRow::active).singleElement()
                .satisfies(active -> assertThat(active.buildNumber()).isEqualTo(6));
    }

    @Test
    void buildsAndStopsOfManyWorkspacesAtOnceEachTouchOnlyTheirOwnWorkspace() {
        // Asked together, these are committed in batches by the durable stores' writer: every
        // workspace must come out as if its writes had been alone.
        int count = 60;
        Map<String, AgentRow> before = new HashMap<>();
        for (int i = 0; i < count; i++) {
            String workspace = "ws-" + i;
            build(workspace);
            if (i % 3 == 0) {
                build(workspace);
            }
            if (i % 5 == 0) {
                store.stopBuild(workspace).block(TIMEOUT);
            }
            before.put(workspace, store.latestRow(workspace).block(TIMEOUT));
        }
        List<AgentRow> seen = new ArrayList<>();
        Disposable watching = store.changes().subscribe(row -> {
            synchronized (seen) {
                seen.add(row);
            }
        });
        clock.advance(Duration.ofSeconds(1));

        Map<String, Optional<AgentRow>> answers = Flux.range(0, count)
                .flatMap(i -> {
                    String workspace = "ws-" + i;
                    Mono<AgentRow> write = i % 4 == 0 ? store.stopBuild(workspace) : store.startBuild(workspace, 1, clock.instant());
                    return write.map(Optional::of).defaultIfEmpty(Optional.empty())
                            .map(answer -> Map.entry(workspace, answer));
                }, count)
                .collectMap(Map.Entry::getKey, Map.Entry::getValue)
                .block(TIMEOUT);

        for (int i = 0; i < count; i++) {
            String workspace = "ws-" + i;
            AgentRow previous = before.get(workspace);
            List<AgentRow> rows = store.rows(workspace, 10).collectList().block(TIMEOUT);
            assertThat(row(previous.agentId())).as(workspace).isEqualTo(previous.active() ? previous.retired() : previous);
            if (i % 4 == 0) {
                assertThat(answers.get(workspace)).as(workspace)
                        .isEqualTo(previous.active() ? Optional.of(previous.retired()) : Optional.empty());
                assertThat(rows).as(workspace).noneMatch(AgentRow::active).first().isEqualTo(row(previous.agentId()));
            } else {
                AgentRow created = answers.get(workspace).orElseThrow();
                assertThat(created).as(workspace).isEqualTo(AgentRow.created(created.agentId(), workspace,
                        previous.buildNumber() + 1, clock.instant(), 1));
                assertThat(rows).as(workspace).filteredOn(AgentRow::active).containsExactly(created);
                assertThat(rows.get(0)).as(workspace).isEqualTo(created);
            }
        }
        watching.dispose();
        synchronized (seen) {
            // A workspace's retired row is announced before its next one (a watcher fences, then binds).
            for (int i = 0; i < count; i++) {
                AgentRow previous = before.get("ws-" + i);
                if (i % 4 != 0 && previous.active()) {
                    AgentRow created = answers.get("ws-" + i).orElseThrow();
                    assertThat(seen.indexOf(previous.retired())).as("ws-" + i).isNotNegative()
                            .isLessThan(seen.indexOf(created));
                }
            }
        }
    }

    @Test
    void workspacesAreListedByNameWithTheirScripts() {
        Workspace second = new Workspace("ws-b", "b-agent",
                List.of(new Script("echo b", Duration.ofSeconds(3), true)), List.of());
        Workspace first = new Workspace("ws-a", "a-agent",
                List.of(new Script("echo a1", Duration.ofSeconds(1), false), new Script("echo a2", Duration.ofSeconds(2), true)),
                List.of(new Script("echo stop", Duration.ofSeconds(5), false)));
        Workspace bare = Workspace.named("ws-c");
        assertThat(workspaces.listWorkspaces().collectList().block(TIMEOUT)).isEmpty();
        for (Workspace workspace : List.of(second, bare, first)) {
            assertThat(workspaces.createWorkspace(workspace, "hash-" + workspace.name()).block(TIMEOUT)).isTrue();
        }

        assertThat(workspaces.listWorkspaces().collectList().block(TIMEOUT)).containsExactly(first, second, bare);
    }

    @Test
    void workspacesReadAtOnceAtDifferentRevisionsEachGetTheirOwnScripts() {
        // Asked together, these are read in batches by the durable stores: every answer must be
        // the one a read alone would give.
        AccessService access = new AccessService(store, workspaces);
        Map<String, List<Workspace>> revisions = new HashMap<>();
        for (int i = 0; i < 12; i++) {
            String name = "ws-" + i;
            Workspace first = new Workspace(name, "agent-" + i, List.of(new Script("start " + i, Duration.ofSeconds(i + 1), true)),
                    i % 2 == 0 ? List.of() : List.of(new Script("stop " + i, Duration.ofSeconds(5), false)));
            access.createWorkspace(first).block(TIMEOUT);
            List<Workspace> written = new ArrayList<>(List.of(first));
            for (int update = 1; update <= i % 3; update++) {
                written.add(access.updateScripts(name, Optional.of(List.of(new Script("start " + i + "." + update,
                        Duration.ofSeconds(update), false))), Optional.empty()).block(TIMEOUT));
            }
            revisions.put(name, written);
        }

        // Every answer keyed by what was asked: a workspace (or none) at a revision, or a revision number.
        List<Mono<Map.Entry<String, Object>>> reads = new ArrayList<>();
        revisions.forEach((name, written) -> {
            for (int revision = 1; revision <= written.size() + 1; revision++) {
                reads.add(answer(name + "@" + revision, workspaces.findWorkspace(name, revision)));
            }
            reads.add(answer(name + "@current", workspaces.findWorkspace(name)));
            reads.add(answer(name + " revision", workspaces.scriptsRevision(name)));
        });
        reads.add(answer("missing@1", workspaces.findWorkspace("missing", 1)));
        Map<String, Object> answers = Flux.merge(reads).collectMap(Map.Entry::getKey, Map.Entry::getValue).block(TIMEOUT);

        assertThat(answers.get("missing@1")).isEqualTo(Optional.empty());
        revisions.forEach((name, written) -> {
            for (int revision = 1; revision <= written.size(); revision++) {
                assertThat(answers.get(name + "@" + revision)).as(name + "@" + revision)
                        .isEqualTo(Optional.of(written.get(revision - 1)));
            }
            assertThat(answers.get(name + "@" + (written.size() + 1))).as("a revision not reached").isEqualTo(Optional.empty());
            assertThat(answers.get(name + "@current")).as(name).isEqualTo(Optional.of(written.get(written.size() - 1)));
            assertThat(answers.get(name + " revision")).as(name).isEqualTo(Optional.of((long) written.size()));
        });
    }

    private static Mono<Map.Entry<String, Object>> answer(String asked, Mono<?> read) {
        return read.map(Optional::of).defaultIfEmpty(Optional.empty()).map(found -> Map.entry(asked, found));
    }

    @Test
    void anUpdateOfTheScriptsReachesTheNextBuildAndNeverTheRowAlreadyRunning() {
        AccessService access = new AccessService(store, workspaces);
        Script original = new Script("echo one", Duration.ofSeconds(30), true);
        Workspace workspace = new Workspace("ws", "dev-agent", List.of(original),
                List.of(new Script("echo stop", Duration.ofSeconds(5), false)));
        access.createWorkspace(workspace).block(TIMEOUT);
        AgentRow running = service.startBuild("ws", access.scriptsRevision("ws").block(TIMEOUT)).block(TIMEOUT);
        assertThat(running.scriptsRevision()).isEqualTo(1);

        Script changed = new Script("echo two", Duration.ofSeconds(90), false);
        Workspace updated = access.updateScripts("ws", Optional.of(List.of(changed, original)), Optional.of(List.of()))
                .block(TIMEOUT);

        assertThat(updated).isEqualTo(new Workspace("ws", "dev-agent", List.of(changed, original), List.of()));
        assertThat(workspaces.findWorkspace("ws").block(TIMEOUT)).isEqualTo(updated);
        assertThat(workspaces.listWorkspaces().collectList().block(TIMEOUT)).containsExactly(updated);
        assertThat(workspaces.scriptsRevision("ws").block(TIMEOUT)).isEqualTo(2);
        assertThat(workspaces.findWorkspace("ws", 1).block(TIMEOUT)).as("a revision never changes").isEqualTo(workspace);
        assertThat(access.manifest(running.agentId()).block(TIMEOUT).startupScripts())
                .as("the running row's manifest").containsExactly(original);
        assertThat(row(running.agentId()).scriptsRevision()).isEqualTo(1);

        AgentRow next = service.startBuild("ws", access.scriptsRevision("ws").block(TIMEOUT)).block(TIMEOUT);
        assertThat(next.scriptsRevision()).isEqualTo(2);
        assertThat(row(next.agentId())).isEqualTo(next);
        assertThat(store.latestRow("ws").block(TIMEOUT)).isEqualTo(next);
        assertThat(access.manifest(next.agentId()).block(TIMEOUT).startupScripts()).containsExactly(changed, original);
        assertThat(access.manifest(next.agentId()).block(TIMEOUT).shutdownScripts()).isEmpty();
    }

    @Test
    void scriptsOfAWorkspaceThatDoesNotExistAreNeitherFoundNorUpdated() {
        workspaces.createWorkspace(Workspace.named("ws"), "hash-ws").block(TIMEOUT);

        assertThat(workspaces.updateScripts("nope", 1, List.of(), List.of()).blockOptional(TIMEOUT)).isEmpty();
        assertThat(workspaces.updateScripts("ws", 2, List.of(), List.of()).blockOptional(TIMEOUT))
                .as("not the current revision").isEmpty();
        assertThat(workspaces.scriptsRevision("ws").block(TIMEOUT)).isEqualTo(1);
        assertThat(workspaces.scriptsRevision("nope").blockOptional(TIMEOUT)).isEmpty();
        assertThat(workspaces.findWorkspace("ws", 2).blockOptional(TIMEOUT)).as("a revision not written yet").isEmpty();
        assertThat(workspaces.findWorkspace("nope", 1).blockOptional(TIMEOUT)).isEmpty();
        StepVerifier.create(new AccessService(store, workspaces).updateScripts("nope", Optional.of(List.of()),
                        Optional.empty()))
                .expectErrorSatisfies(error -> assertThat(error).hasMessageStartingWith("no workspace named nope"))
                .verify(TIMEOUT);
    }

    @Test
    void ofUpdatesFromOneRevisionOnlyOneIsWritten() throws Exception {
        workspaces.createWorkspace(Workspace.named("ws"), "hash-ws").block(TIMEOUT);
        List<Future<Optional<Long>>> revisions = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Script script = new Script("echo " + i, Duration.ofSeconds(1), false);
            revisions.add(pool.submit(() -> workspaces.updateScripts("ws", 1, List.of(script), List.of())
                    .blockOptional(TIMEOUT)));
        }
        List<Long> written = new ArrayList<>();
        for (Future<Optional<Long>> revision : revisions) {
            revision.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).ifPresent(written::add);
        }

        assertThat(written).containsExactly(2L);
        assertThat(workspaces.findWorkspace("ws", 2).block(TIMEOUT).startupScripts()).hasSize(1);
        assertThat(workspaces.findWorkspace("ws", 3).blockOptional(TIMEOUT)).isEmpty();
    }

    @Test
    void updatesAtOnceEachKeepWhatTheOthersChanged() throws Exception {
        AccessService access = new AccessService(store, workspaces);
        access.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
        Script start = new Script("echo start", Duration.ofSeconds(1), true);
        Script stop = new Script("echo stop", Duration.ofSeconds(2), false);
        List<Future<Workspace>> updates = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            boolean startup = i % 2 == 0;
            updates.add(pool.submit(() -> access.updateScripts("ws",
                    startup ? Optional.of(List.of(start)) : Optional.empty(),
                    startup ? Optional.empty() : Optional.of(List.of(stop))).block(TIMEOUT)));
        }
        for (Future<Workspace> update : updates) {
            update.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }

        assertThat(workspaces.scriptsRevision("ws").block(TIMEOUT)).as("one revision per update").isEqualTo(9);
        assertThat(workspaces.findWorkspace("ws").block(TIMEOUT))
                .isEqualTo(new Workspace("ws", "ws-agent", List.of(start), List.of(stop)));
    }

    @Test
    void theFirstAdminTokenSetIsTheDeploymentsAndARotationThroughAnyServiceRefusesTheOldOneForAll() {
        AccessService first = new AccessService(store, workspaces);
        AccessService second = new AccessService(store, workspaces); // another replica, on the same store
        assertThat(first.isAdminToken("token-of-replica-one").block(TIMEOUT)).as("none set yet").isFalse();

        assertThat(first.initializeAdminToken("token-of-replica-one").block(TIMEOUT)).isTrue();
        assertThat(second.initializeAdminToken("token-of-replica-two").block(TIMEOUT)).isFalse();

        assertThat(second.isAdminToken("token-of-replica-one").block(TIMEOUT)).isTrue();
        assertThat(second.isAdminToken("token-of-replica-two").block(TIMEOUT)).isFalse();
        assertThat(workspaces.adminTokenHash().block(TIMEOUT)).as("kept only as a hash")
                .isEqualTo(AccessService.hash("token-of-replica-one"));
        String rotated = second.rotateAdminToken().block(TIMEOUT);
        assertThat(first.isAdminToken(rotated).block(TIMEOUT)).isTrue();
        assertThat(first.isAdminToken("token-of-replica-one").block(TIMEOUT)).isFalse();
        assertThat(first.initializeAdminToken("token-of-replica-one").block(TIMEOUT)).isFalse();
    }

    @Test
    void ofReplicasSettingTheFirstAdminTokenAtOnceExactlyOneWins() throws Exception {
        List<Future<Boolean>> attempts = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String token = "admin-token-" + i;
            attempts.add(pool.submit(() -> workspaces.initializeAdminTokenHash(AccessService.hash(token)).block(TIMEOUT)));
        }
        int won = 0;
        for (Future<Boolean> attempt : attempts) {
            won += attempt.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS) ? 1 : 0;
        }

        assertThat(won).isEqualTo(1);
        assertThat(workspaces.adminTokenHash().block(TIMEOUT)).isNotNull();
    }

    @Test
    void workspacesKeepTheirScriptsAndCredentialsOnlyAsHashes() {
        AccessService access = new AccessService(store, workspaces);
        Workspace workspace = new Workspace("ws", "dev-agent",
                List.of(new Script("echo start", Duration.ofSeconds(30), true),
                        new Script("echo more", Duration.ofMillis(1500), false)),
                List.of(new Script("echo stop", Duration.ofSeconds(5), false)));
        String identity = access.createWorkspace(workspace).block(TIMEOUT);
        AgentRow row = build("ws");

        assertThat(workspaces.findWorkspace("ws").block(TIMEOUT)).isEqualTo(workspace);
        assertThat(workspaces.createWorkspace(workspace, "other-hash").block(TIMEOUT)).isFalse();
        assertThat(workspaces.findByIdentityHash(identity).blockOptional(TIMEOUT)).as("looked up by the secret itself")
                .isEmpty();
        AccessService.SessionGrant grant = access.exchange(identity).block(TIMEOUT);
        assertThat(grant.agentId()).isEqualTo(row.agentId());
        assertThat(access.authenticate(grant.sessionToken()).block(TIMEOUT)).isEqualTo(row.agentId());
        assertThat(workspaces.findSessionToken(grant.sessionToken()).blockOptional(TIMEOUT)).isEmpty();
        assertThat(workspaces.findSessionToken(AccessService.hash(grant.sessionToken())).block(TIMEOUT).agentId())
                .isEqualTo(row.agentId());
    }

    @Test
    void aNewIdentityRefusesTheOldOneAndEveryCredentialHandedOutWithIt() {
        AccessService access = new AccessService(store, workspaces);
        String old = access.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
        String othersIdentity = access.createWorkspace(Workspace.named("other")).block(TIMEOUT);
        build("ws");
        build("other");
        AccessService.SessionGrant session = access.exchange(old).block(TIMEOUT);
        AccessService.ConnectionGrant connection = access.exchangeForConnection(old).block(TIMEOUT);
        AccessService.ConnectionGrant others = access.exchangeForConnection(othersIdentity).block(TIMEOUT);
        build("ws"); // a session token of an older row is forgotten too

        String renewed = access.rotateIdentity("ws").block(TIMEOUT);

        assertThat(renewed).isNotEqualTo(old);
        assertRefused(() -> access.exchangeForConnection(old).block(TIMEOUT), ErrorCode.UNAUTHENTICATED);
        assertRefused(() -> access.authenticate(session.sessionToken()).block(TIMEOUT), ErrorCode.UNAUTHENTICATED);
        assertThat(access.authenticateConnection(connection.connectionToken()).blockOptional(TIMEOUT)).isEmpty();
        assertThat(access.exchangeForConnection(renewed).block(TIMEOUT).workspace()).isEqualTo("ws");
        assertThat(access.authenticateConnection(others.connectionToken()).block(TIMEOUT)).as("another workspace's")
                .isEqualTo("other");
        assertRefused(() -> access.rotateIdentity("nope").block(TIMEOUT), ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void aDeletedWorkspaceIsGoneWithItsCredentialsAndItsRowsStay() {
        AccessService access = new AccessService(store, workspaces);
        String identity = access.createWorkspace(Workspace.named("ws")).block(TIMEOUT);
        access.createWorkspace(Workspace.named("other")).block(TIMEOUT);
        AgentRow row = build("ws");
        AccessService.ConnectionGrant connection = access.exchangeForConnection(identity).block(TIMEOUT);

        access.deleteWorkspace("ws").block(TIMEOUT);

        assertThat(workspaces.findWorkspace("ws").blockOptional(TIMEOUT)).isEmpty();
        assertThat(workspaces.listWorkspaces().map(Workspace::name).collectList().block(TIMEOUT)).containsExactly("other");
        assertRefused(() -> access.exchangeForConnection(identity).block(TIMEOUT), ErrorCode.UNAUTHENTICATED);
        assertThat(access.authenticateConnection(connection.connectionToken()).blockOptional(TIMEOUT)).isEmpty();
        assertThat(store.findRow(row.agentId()).block(TIMEOUT)).as("history").isNotNull();
        assertRefused(() -> access.deleteWorkspace("ws").block(TIMEOUT), ErrorCode.INVALID_ARGUMENT);
        assertThat(access.createWorkspace(Workspace.named("ws")).block(TIMEOUT)).as("the name is free again")
                .isNotEqualTo(identity);
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, ErrorCode code) {
        assertThatThrownBy(call).isInstanceOfSatisfying(AgentcoreException.class,
                error -> assertThat(error.code()).isEqualTo(code));
    }

    @Test
    void aConnectionTokenAuthenticatesItsWorkspaceAcrossBuildsAndBindsOnlyToItsActiveRow() {
        AccessService access = new AccessService(store, workspaces);
        String identity = access.createWorkspace(new Workspace("ws", "dev-agent", List.of(), List.of())).block(TIMEOUT);
        access.createWorkspace(new Workspace("other", "dev-agent", List.of(), List.of())).block(TIMEOUT);
        // No build yet: a connection token does not need a row.
        AccessService.ConnectionGrant grant = access.exchangeForConnection(identity).block(TIMEOUT);
        assertThat(grant.workspace()).isEqualTo("ws");
        assertThat(grant.toString()).doesNotContain(grant.connectionToken());
        AgentRow first = build("ws");
        AgentRow othersRow = build("other");
        AgentRow second = build("ws");

        assertThat(access.authenticateConnection(grant.connectionToken()).block(TIMEOUT)).isEqualTo("ws");
        assertThat(workspaces.findConnectionToken(grant.connectionToken()).blockOptional(TIMEOUT))
                .as("looked up by the secret itself").isEmpty();
        assertThat(access.authenticateConnection(AccessService.newSecret()).blockOptional(TIMEOUT)).isEmpty();
        assertThat(access.bind("ws", second.agentId()).block(TIMEOUT)).isEqualTo(second.agentId());
        for (AgentRow refused : List.of(first, othersRow)) {
            assertThatThrownBy(() -> access.bind("ws", refused.agentId()).block(TIMEOUT))
                    .isInstanceOfSatisfying(AgentcoreException.class, error -> {
                        assertThat(error.code()).isEqualTo(ErrorCode.FENCED);
                        assertThat(error.getMessage()).contains("retired or unknown");
                    });
        }
        assertThatThrownBy(() -> access.exchangeForConnection(AccessService.newSecret()).block(TIMEOUT))
                .isInstanceOfSatisfying(AgentcoreException.class,
                        error -> assertThat(error.code()).isEqualTo(ErrorCode.UNAUTHENTICATED));
    }
}
