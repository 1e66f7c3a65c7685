package dev.agentcore.store;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.Script;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.AgentStore;
import dev.agentcore.core.control.RowChanges;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.core.control.WorkspaceStore;
import io.r2dbc.h2.H2ConnectionConfiguration;
import io.r2dbc.h2.H2ConnectionFactory;
import io.r2dbc.pool.ConnectionPool;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.postgresql.api.PostgresqlResult;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * The control plane's durable store over R2DBC: an embedded H2 file (one process) or PostgreSQL
 * (several control-plane replicas).
 *
 * <p>Every row write goes to the store's one writer ({@link RowWriter}), which commits waiting
 * compare-and-sets together (group commit: one transaction per batch on H2, one statement on
 * PostgreSQL), and waiting builds together in a few statements per batch. A write the writer has
 * taken runs to its end even if its caller cancels, and is published on {@link #changes()} when
 * it commits, before its caller hears of it. Reads, too, run to their end before their connection
 * goes back to the pool; workspaces asked for at about the same time (the manifests of a build
 * boundary) are read together ({@link ReadBatcher}). The schema is migrated at start-up (see
 * {@link Migrations}). On PostgreSQL each batch also sends {@code NOTIFY agentcore_rows} with the
 * rows it wrote, and {@link #changes()} listens, so a watcher on any replica sees every write. H2
 * runs in-process and its calls block, so they run on a bounded-elastic scheduler, never on the
 * caller's (event-loop) thread; every H2 batch is forced to disk before it is acknowledged.
 *
 * <pre>{@code
 * R2dbcAgentStore store = R2dbcAgentStore.openH2File(Path.of("agentcore-data")).block();
 * R2dbcAgentStore shared = R2dbcAgentStore.open("r2dbc:postgresql://agentcore@db:5432/agentcore").block();
 * }</pre>
 */
public final class R2dbcAgentStore implements AgentStore, WorkspaceStore, Disposable, MeterBinder {

    private static final Logger log = LoggerFactory.getLogger(R2dbcAgentStore.class);
    static final String CHANNEL = "agentcore_rows";
    private static final int BUILD_ATTEMPTS = 10;
    /** Compare-and-sets committed together at most. */
    static final int MAX_BATCH = 256;
    /** Writes waiting at most; past that a write is answered RESOURCE_EXHAUSTED. */
    static final int MAX_QUEUED = 20_000;
    /** The NOTIFY payload limit is 8,000 bytes; rows are packed into payloads below this. */
    private static final int NOTIFY_PAYLOAD_BYTES = 7_000;
    /** The compare-and-set of one row: the row is written only if it is still at the expected version. */
    private static final String UPDATE_ROW = "UPDATE agent_rows SET lifecycle_state = $1, started_at_nanos = $2, "
            + "ready_at_nanos = $3, last_incarnation = $4, last_generation = $5, last_seq = $6, active = $7, "
            + "duration_recorded = $8, row_version = $9 WHERE id = $10 AND row_version = $11";

    /** Which SQL database is behind the connection factory. */
    enum Dialect { H2, POSTGRESQL }

    private final ConnectionPool pool;
    /** The row writer's connection, one batch at a time: see the constructor. */
    private final ConnectionPool writerPool;
    /** Opens the LISTEN connection on PostgreSQL (the pool's own factory, unless a test wraps that one). */
    private final ConnectionFactory listening;
    private final Dialect dialect;
    private final Scheduler scheduler;
    private final RowChanges localChanges = new RowChanges();
    private final Flux<AgentRow> remoteChanges;
    /** Names this store in its notifications, so that it can skip its own. */
    /** Tells this replica's notifications from others': unique, not secret, so a non-blocking random will do. */
    private final String replica = Long.toHexString(ThreadLocalRandom.current().nextLong());
    private final RowWriter writer;
    private final ReadBatcher<WorkspaceAt, WorkspaceRevision> workspaceReads;
    /**
     * Active rows as this store last saw them (its own commits, other replicas' notifications, its
     * reads), newest kept; retired rows leave it. Exact on H2, where this store is the file's only
     * writer; on PostgreSQL it may lag another replica, which {@link #recentRow} allows.
     */
    private final Map<AgentId, AgentRow> recentRows = new ConcurrentHashMap<>();
    /** Reads and transactions outside the writer, started and not yet ended (see {@link #toTheEnd}). */
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Set by {@link #close()}: work outside the writer that starts afterwards is refused. */
    private volatile boolean closing;
    /** Completes once the store is closing and no work outside the writer is in flight. */
    private final Sinks.Empty<Void> drained = Sinks.empty();

    private R2dbcAgentStore(ConnectionFactory unpooled, ConnectionFactory listening, Dialect dialect, int maxConnections) {
        this.listening = listening;
        this.dialect = dialect;
        this.scheduler = dialect == Dialect.H2 ? Schedulers.boundedElastic() : Schedulers.immediate();
        ConnectionFactory pooled = dialect == Dialect.H2 ? new OffloadedConnectionFactory(unpooled, scheduler) : unpooled;
        this.pool = pool(pooled, dialect, maxConnections);
        // The writer's one connection is its own: acknowledged updates never queue behind the reads
        // and token writes of a crowd of agents exchanging their identities (10,000 at once starved
        // it to a commit every few seconds when they shared one pool).
        this.writerPool = pool(pooled, dialect, 1);
        this.writer = new RowWriter(new Batches(), this::publish, MAX_BATCH, MAX_QUEUED);
        // Manifests and build starts read workspaces by the thousand at a build boundary: in batches,
        // as many at once as the pool has connections.
        this.workspaceReads = new ReadBatcher<>(this::workspacesAt, MAX_BATCH, maxConnections);
        // The writer draws each new row's AgentId on whatever thread runs its batch (an event loop,
        // on PostgreSQL): drawing one here, where blocking is allowed, seeds the generator.
        AgentId.random();
        // One LISTEN connection per store, opened while somebody watches, shared by all watchers.
        this.remoteChanges = dialect == Dialect.POSTGRESQL ? listen().publish().refCount() : Flux.empty();
    }

    /**
     * Opens the store at an R2DBC URL ({@code r2dbc:postgresql://...} or {@code r2dbc:h2:...}),
     * migrating its schema; fails if the database's schema is newer than this code knows.
     */
    public static Mono<R2dbcAgentStore> open(String url) {
        Objects.requireNonNull(url, "url");
        return Mono.defer(() -> {
            Dialect dialect;
            if (url.startsWith("r2dbc:postgresql:") || url.startsWith("r2dbc:postgres:")) {
                dialect = Dialect.POSTGRESQL;
            } else if (url.startsWith("r2dbc:h2:")) {
                dialect = Dialect.H2;
            } else {
                return Mono.error(new IllegalArgumentException(
                        "url: expected r2dbc:postgresql://... or r2dbc:h2:..., was " + redact(url)));
            }
            ConnectionFactory factory = ConnectionFactories.get(url);
            return migrated(new R2dbcAgentStore(factory, factory, dialect, 10));
        });
    }

    /** Opens (creating if needed) the embedded H2 store in {@code directory}, migrating its schema. */
    public static Mono<R2dbcAgentStore> openH2File(Path directory) {
        Objects.requireNonNull(directory, "directory");
        return Mono.defer(() -> {
            String file = directory.toAbsolutePath().resolve("agentcore").toString();
            H2ConnectionConfiguration configuration = H2ConnectionConfiguration.builder()
                    .file(file)
                    // Written to disk at every commit: an acknowledged update survives a killed process.
                    .property("WRITE_DELAY", "0")
                    // Parsed statements kept per session (H2's default is 8): the writer alone runs more
                    // than 8 statements at a build boundary, and each miss parses the statement again.
                    .property("QUERY_CACHE_SIZE", "64")
                    .build();
            return migrated(new R2dbcAgentStore(new H2ConnectionFactory(configuration), null, Dialect.H2, 4));
        });
    }

    /**
     * Opens a store whose pool takes connections from {@code unpooled} (tests wrap the driver's
     * factory), listening on PostgreSQL through {@code listening}.
     */
    static Mono<R2dbcAgentStore> open(ConnectionFactory unpooled, ConnectionFactory listening, Dialect dialect) {
        return Mono.defer(() -> migrated(new R2dbcAgentStore(unpooled, listening, dialect, sharedConnections(dialect))));
    }

    /** How many connections the shared pool of a store opened by {@link #open(ConnectionFactory, ConnectionFactory, Dialect)} has. */
    static int sharedConnections(Dialect dialect) {
        return dialect == Dialect.H2 ? 4 : 10;
    }

    private static ConnectionPool pool(ConnectionFactory pooled, Dialect dialect, int maxConnections) {
        ConnectionPoolConfiguration.Builder configuration = ConnectionPoolConfiguration.builder(pooled)
                .initialSize(1)
                .maxSize(maxConnections)
                .maxAcquireTime(Duration.ofSeconds(30));
        if (dialect == Dialect.H2) {
            // H2 sessions stay open: there is no server to spare, and closing one blocks.
            configuration.maxIdleTime(Duration.ofMillis(-1));
        } else {
            configuration.maxIdleTime(Duration.ofMinutes(5));
        }
        return new ConnectionPool(configuration.build());
    }

    /** How many pooled connections are taken right now, the writer's included (0 when the store is idle). */
    int connectionsInUse() {
        return taken(pool) + taken(writerPool);
    }

    private static int taken(ConnectionPool pool) {
        return pool.getMetrics().map(metrics -> metrics.acquiredSize()).orElse(0);
    }

    /** The pools and the writer as they are now, for a test's failure message. */
    String state() {
        return describe("pool", pool) + "; " + describe("writer's pool", writerPool) + "; writer: " + writer.stats();
    }

    private static String describe(String name, ConnectionPool pool) {
        return pool.getMetrics().map(metrics -> name + ": " + metrics.acquiredSize() + " taken, " + metrics.idleSize()
                + " idle, " + metrics.pendingAcquireSize() + " waiting").orElse(name + ": no metrics");
    }

    private static Mono<R2dbcAgentStore> migrated(R2dbcAgentStore store) {
        return store.inTransaction(connection -> Migrations.apply(connection, store.dialect))
                .then(Mono.just(store))
                .onErrorResume(error -> store.close().then(Mono.error(error)));
    }

    /** Completes once the database has answered a query on a pooled connection; errors if it cannot be reached. */
    public Mono<Void> ping() {
        return withConnection(connection -> query(connection, "SELECT 1 AS one", readable -> Boolean.TRUE)).then();
    }

    /** The schema version this database is at. */
    public Mono<Integer> schemaVersion() {
        return withConnection(Migrations::currentVersion).next();
    }

    // ---- AgentStore ---------------------------------------------------------------------------

    @Override
    public Mono<AgentRow> findRow(AgentId agentId) {
        Objects.requireNonNull(agentId, "agentId");
        return withConnection(connection -> query(connection, "SELECT * FROM agent_rows WHERE id = $1",
                R2dbcAgentStore::row, agentId.value())).next().doOnNext(this::remember);
    }

    @Override
    public Mono<AgentRow> recentRow(AgentId agentId) {
        Objects.requireNonNull(agentId, "agentId");
        return Mono.defer(() -> {
            AgentRow recent = recentRows.get(agentId);
            return recent != null ? Mono.just(recent) : findRow(agentId);
        });
    }

    /** Keeps the newest picture of an active row; a retired row is forgotten. */
    private void remember(AgentRow row) {
        recentRows.compute(row.agentId(), (agentId, known) -> {
            AgentRow newest = known == null || row.isNewerThan(known) ? row : known;
            return newest.active() ? newest : null;
        });
    }

    @Override
    public Mono<AgentRow> latestRow(String workspace) {
        return rows(workspace, 1).next();
    }

    @Override
    public Flux<AgentRow> rows(String workspace, int limit) {
        Objects.requireNonNull(workspace, "workspace");
        return withConnection(connection -> query(connection,
                "SELECT * FROM agent_rows WHERE workspace = $1 ORDER BY build_number DESC LIMIT $2",
                R2dbcAgentStore::row, workspace, Math.max(0, limit)));
    }

    @Override
    public Mono<AgentRow> startBuild(String workspace, long scriptsRevision, Instant createdAt) {
        Objects.requireNonNull(workspace, "workspace");
        Objects.requireNonNull(createdAt, "createdAt");
        if (scriptsRevision < 1) {
            throw new IllegalArgumentException("scriptsRevision: from 1, was " + scriptsRevision);
        }
        return writer.submit(new RowWriter.StartBuild(workspace, scriptsRevision, createdAt)).cast(AgentRow.class);
    }

    /**
     * Commits a batch of builds of distinct workspaces in a fixed number of statements, whatever
     * its size: the workspaces' last build numbers, one INSERT of the new rows, their active rows
     * locked, one write retiring them, and on PostgreSQL the new rows' NOTIFY (one build at a time
     * took four or five statements each). In this order, concurrent builds cannot leave two rows active: a build that
     * read the same next number as another's fails on the (workspace, build_number) key and its
     * batch is retried; one that read a later number saw the earlier build committed, so it
     * retires it. New rows are inserted, and active rows locked, in one order on every replica
     * (workspace, id), so two replicas' batches wait for each other instead of deadlocking. Emits,
     * per build in batch order, the rows it retired, then the new one.
     */
    private Mono<List<List<AgentRow>>> buildsIn(Connection connection, List<RowWriter.BuildWrite> batch) {
        List<RowWriter.StartBuild> starts = batch.stream()
                .filter(RowWriter.StartBuild.class::isInstance).map(RowWriter.StartBuild.class::cast)
                .sorted(Comparator.comparing(RowWriter.StartBuild::workspace))
                .toList();
        Object[] workspaces = batch.stream().map(RowWriter.BuildWrite::workspace).sorted().toArray();
        if (Arrays.stream(workspaces).distinct().count() != workspaces.length) {
            return Mono.error(new IllegalArgumentException("a batch of builds must be of distinct workspaces"));
        }
        return insertNextRows(connection, starts)
                .flatMap(created -> query(connection, "SELECT r.* FROM agent_rows r JOIN "
                                + namesTable(1, workspaces.length) + " ON r.workspace = n.name WHERE r.active = TRUE "
                                + "ORDER BY r.id FOR UPDATE OF r",
                        R2dbcAgentStore::row, workspaces)
                        .collectList()
                        .flatMap(active -> {
                            Map<String, List<AgentRow>> retiredBy = new HashMap<>();
                            List<RowWriter.CompareAndSet> retirements = new ArrayList<>();
                            active.stream()
                                    .filter(row -> !created.containsKey(row.workspace())
                                            || row.buildNumber() < created.get(row.workspace()).buildNumber())
                                    .sorted(Comparator.comparingLong(AgentRow::buildNumber))
                                    .forEach(row -> {
                                        AgentRow retired = row.retired();
                                        retirements.add(new RowWriter.CompareAndSet(row, retired));
                                        retiredBy.computeIfAbsent(row.workspace(), any -> new ArrayList<>()).add(retired);
                                    });
                            return retireLocked(connection, retirements)
                                    .then(notifyAll(connection, List.copyOf(created.values())))
                                    .then(Mono.fromSupplier(() -> batch.stream().map(write -> {
                                        List<AgentRow> rows = new ArrayList<>(retiredBy.getOrDefault(write.workspace(), List.of()));
                                        if (write instanceof RowWriter.StartBuild) {
                                            rows.add(created.get(write.workspace()));
                                        }
                                        return List.copyOf(rows);
                                    }).toList()));
                        }));
    }

    /** Inserts each start's next row (one statement) and emits them by workspace; an empty map when there is none. */
    private Mono<Map<String, AgentRow>> insertNextRows(Connection connection, List<RowWriter.StartBuild> starts) {
        if (starts.isEmpty()) {
            return Mono.just(Map.of());
        }
        Object[] workspaces = starts.stream().map(RowWriter.StartBuild::workspace).toArray();
        return query(connection, "SELECT r.workspace, MAX(r.build_number) AS last_build FROM agent_rows r JOIN "
                        + namesTable(1, workspaces.length) + " ON r.workspace = n.name GROUP BY r.workspace",
                readable -> Map.entry(readable.get("workspace", String.class), number(readable, "last_build")), workspaces)
                .collectMap(Map.Entry::getKey, Map.Entry::getValue)
                .flatMap(lastBuilds -> {
                    Map<String, AgentRow> created = new LinkedHashMap<>();
                    List<Object> values = new ArrayList<>();
                    StringBuilder sql = new StringBuilder("INSERT INTO agent_rows (id, workspace, build_number, "
                            + "created_at_nanos, lifecycle_state, started_at_nanos, ready_at_nanos, last_incarnation, "
                            + "last_generation, last_seq, active, duration_recorded, row_version, scripts_revision) VALUES ");
                    for (RowWriter.StartBuild start : starts) {
                        AgentRow row = AgentRow.created(AgentId.random(), start.workspace(),
                                lastBuilds.getOrDefault(start.workspace(), 0L) + 1, start.createdAt(), start.scriptsRevision());
                        created.put(row.workspace(), row);
                        sql.append(values.isEmpty() ? "(" : ", (").append(placeholders(values.size() + 1, 14)).append(')');
                        values.addAll(Arrays.asList(row.agentId().value(), row.workspace(), row.buildNumber(),
                                nanos(row.createdAt()), row.state().name(), Null.LONG, Null.LONG, Null.STRING, Null.LONG,
                                row.lastSeq(), row.active(), row.buildDurationRecorded(), row.version(),
                                row.scriptsRevision()));
                    }
                    return execute(connection, sql.toString(), values.toArray()).thenReturn(created);
                });
    }

    /**
     * Writes rows this transaction holds FOR UPDATE, so every compare-and-set writes: one MERGE on
     * H2, one statement with its NOTIFY on PostgreSQL.
     */
    private Mono<Void> retireLocked(Connection connection, List<RowWriter.CompareAndSet> retirements) {
        if (retirements.isEmpty()) {
            return Mono.empty();
        }
        Mono<Long> written = dialect == Dialect.POSTGRESQL
                ? compareAndSetsInOneStatement(connection, retirements).count()
                : execute(connection, mergeSql(retirements), batchParameters(retirements, null));
        return written.flatMap(count -> count == retirements.size() ? Mono.<Void>empty()
                : Mono.error(new IllegalStateException("retired " + count + " of " + retirements.size()
                        + " locked rows")));
    }

    /** PostgreSQL: announces these rows to other replicas, packed into as few NOTIFY payloads as fit. */
    private Mono<Void> notifyAll(Connection connection, List<AgentRow> rows) {
        if (dialect != Dialect.POSTGRESQL || rows.isEmpty()) {
            return Mono.empty();
        }
        List<String> payloads = new ArrayList<>();
        StringBuilder payload = new StringBuilder();
        for (AgentRow row : rows) {
            String note = RowNotification.encode(replica, row);
            if (payload.length() > 0 && payload.length() + note.length() + 1 > NOTIFY_PAYLOAD_BYTES) {
                payloads.add(payload.toString());
                payload.setLength(0);
            }
            payload.append(payload.length() == 0 ? "" : RowNotification.SEPARATOR).append(note);
        }
        payloads.add(payload.toString());
        StringBuilder sql = new StringBuilder("SELECT pg_notify('" + CHANNEL + "', n.payload) FROM (VALUES ");
        for (int i = 1; i <= payloads.size(); i++) {
            sql.append(i == 1 ? "" : ", ").append("(CAST($").append(i).append(" AS TEXT))");
        }
        sql.append(") AS n(payload)");
        return query(connection, sql.toString(), readable -> true, payloads.toArray()).then();
    }

    /**
     * {@code count} String parameters from {@code $from} as a table {@code n(name)} to join on, each
     * cast to VARCHAR once. Not an IN list: r2dbc-h2 binds every String as a CLOB (its CLOB codec is
     * asked before its string codec), and H2 evaluates an IN list again for each row it reads,
     * converting that row's value to compare it with every element, so a batch's read grew with the
     * square of its size (256 workspaces: 6.8 ms against 1.9 ms joined; 1,000: 74 against 7.4 ms).
     * Joined, H2 looks each name up in the index. PostgreSQL reads both forms alike.
     */
    private static String namesTable(int from, int count) {
        StringBuilder table = new StringBuilder("(VALUES ");
        for (int i = 0; i < count; i++) {
            table.append(i == 0 ? "(CAST($" : ", (CAST($").append(from + i).append(" AS VARCHAR))");
        }
        return table.append(") AS n(name)").toString();
    }

    /** {@code $from, $from+1, ...}: {@code count} placeholders. */
    private static String placeholders(int from, int count) {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < count; i++) {
            list.append(i == 0 ? "$" : ", $").append(from + i);
        }
        return list.toString();
    }

    @Override
    public Mono<AgentRow> stopBuild(String workspace) {
        Objects.requireNonNull(workspace, "workspace");
        return writer.submit(new RowWriter.StopBuild(workspace))
                .flatMap(outcome -> outcome == RowWriter.NOTHING ? Mono.empty() : Mono.just((AgentRow) outcome));
    }

    @Override
    public Mono<Boolean> compareAndSet(AgentRow expected, AgentRow next) {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(next, "next");
        if (!expected.agentId().equals(next.agentId()) || next.version() != expected.version() + 1) {
            return Mono.error(new IllegalArgumentException("next must be the same row one version later, was "
                    + next.agentId() + " v" + next.version() + " after " + expected.agentId() + " v" + expected.version()));
        }
        return writer.submit(new RowWriter.CompareAndSet(expected, next)).cast(Boolean.class);
    }

    /** Publishes committed rows on {@link #changes()}, in commit order; called by the writer only. */
    private void publish(List<AgentRow> committed) {
        committed.forEach(this::remember);
        committed.forEach(localChanges::committed);
        localChanges.publish();
    }

    /** How the writer's batches are committed, per dialect. */
    private final class Batches implements RowWriter.Batches {

        @Override
        public Mono<boolean[]> compareAndSets(List<RowWriter.CompareAndSet> batch) {
            if (dialect == Dialect.POSTGRESQL) {
                // One statement: its own transaction, one round trip, the NOTIFY committed with it.
                return Flux.usingWhen(writerPool.create(), connection -> compareAndSetsInOneStatement(connection, batch),
                                Connection::close)
                        .collect(Collectors.toSet())
                        .map(written -> {
                            boolean[] outcome = new boolean[batch.size()];
                            for (int i = 0; i < outcome.length; i++) {
                                outcome[i] = written.contains(batch.get(i).expected().agentId().value());
                            }
                            return outcome;
                        });
            }
            // The usual batch: every row still at its expected version, all written by one MERGE. When
            // some row is not (a caller's picture was stale), that transaction is rolled back and the
            // batch is written row by row, which tells which compare-and-set wrote.
            boolean[] allWritten = new boolean[batch.size()];
            Arrays.fill(allWritten, true);
            return committed(writerPool, connection -> execute(connection, mergeSql(batch), batchParameters(batch, null))
                    .flatMap(updated -> updated == batch.size() ? Mono.just(allWritten) : Mono.error(NotAllAtExpected.INSTANCE)))
                    .onErrorResume(NotAllAtExpected.class, rolledBack -> committed(writerPool, connection -> Flux.fromIterable(batch)
                            .concatMap(write -> update(connection, write.expected(), write.next()))
                            .collectList()
                            .map(written -> {
                                boolean[] outcome = new boolean[written.size()];
                                for (int i = 0; i < outcome.length; i++) {
                                    outcome[i] = written.get(i);
                                }
                                return outcome;
                            })));
        }

        @Override
        public Mono<List<List<AgentRow>>> builds(List<RowWriter.BuildWrite> batch) {
            return committed(writerPool, connection -> buildsIn(connection, batch))
                    // Two builds of one workspace on two replicas: one loses on the (workspace, build_number) key,
                    // and its whole batch is tried again.
                    .retryWhen(Retry.max(BUILD_ATTEMPTS).filter(R2dbcDataIntegrityViolationException.class::isInstance));
        }

        @Override
        public Mono<Void> forgetCredentials(List<RowWriter.ForgetCredentials> batch) {
            return committed(writerPool, connection -> Flux.fromIterable(batch).concatMap(forget -> execute(connection,
                                    "DELETE FROM connection_tokens WHERE workspace = $1", forget.workspace())
                            .thenMany(Flux.fromIterable(forget.rows()).concatMap(row -> execute(connection,
                                    "DELETE FROM session_tokens WHERE agent_id = $1", row.value()))))
                    .then(Mono.just(Boolean.TRUE)))
                    .then();
        }

        @Override
        public Mono<Void> tokens(List<RowWriter.SaveToken> batch) {
            return committed(writerPool, connection -> Flux.concat(
                            insertTokens(connection, "session_tokens", "agent_id", batch, RowWriter.TokenKind.SESSION),
                            insertTokens(connection, "connection_tokens", "workspace", batch, RowWriter.TokenKind.CONNECTION))
                    .then(Mono.just(Boolean.TRUE)))
                    .then();
        }
    }

    /** One INSERT of every token of {@code kind} in the batch; nothing when there is none. */
    private Mono<Long> insertTokens(Connection connection, String table, String ownerColumn,
            List<RowWriter.SaveToken> batch, RowWriter.TokenKind kind) {
        List<RowWriter.SaveToken> tokens = batch.stream().filter(token -> token.kind() == kind).toList();
        if (tokens.isEmpty()) {
            return Mono.empty();
        }
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append(" (token_hash, ")
                .append(ownerColumn).append(") VALUES ");
        Object[] values = new Object[tokens.size() * 2];
        for (int i = 0; i < tokens.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append("($").append(2 * i + 1).append(", $").append(2 * i + 2).append(')');
            values[2 * i] = tokens.get(i).tokenHash();
            values[2 * i + 1] = tokens.get(i).owner();
        }
        return execute(connection, sql.toString(), values);
    }

    /**
     * PostgreSQL: every compare-and-set of the batch in one statement, its rows locked in id order
     * (so two replicas' batches cannot deadlock), and one NOTIFY per payload-full of written rows.
     * Emits the ids of the rows written.
     */
    private Flux<String> compareAndSetsInOneStatement(Connection connection, List<RowWriter.CompareAndSet> batch) {
        String[] notes = new String[batch.size()];
        for (int i = 0; i < notes.length; i++) {
            notes[i] = RowNotification.encode(replica, batch.get(i).next());
        }
        String sql = "WITH input (" + BATCH_COLUMNS + ", note, chunk) AS (VALUES " + batchValues(batch, notes) + "), "
                + "locked AS (SELECT r.id FROM agent_rows r JOIN input i ON r.id = i.id ORDER BY r.id FOR UPDATE OF r), "
                + "updated AS (UPDATE agent_rows r SET " + BATCH_ASSIGNMENTS + " FROM input i "
                + "WHERE r.id = i.id AND r.row_version = i.expected AND r.id IN (SELECT id FROM locked) "
                + "RETURNING r.id, i.note, i.chunk), "
                + "notified AS (SELECT pg_notify('" + CHANNEL + "', string_agg(note, '" + RowNotification.SEPARATOR
                + "')) FROM updated GROUP BY chunk) "
                + "SELECT id FROM updated, (SELECT count(*) AS notifications FROM notified) n";
        return query(connection, sql, readable -> readable.get("id", String.class), batchParameters(batch, notes));
    }

    /** H2: every compare-and-set of the batch in one MERGE; the count it returns is the rows written. */
    private static String mergeSql(List<RowWriter.CompareAndSet> batch) {
        return "MERGE INTO agent_rows r USING (VALUES " + batchValues(batch, null) + ") AS i(" + BATCH_COLUMNS
                + ") ON r.id = i.id AND r.row_version = i.expected WHEN MATCHED THEN UPDATE SET " + BATCH_ASSIGNMENTS;
    }

    /** The columns of a batch's VALUES list, as {@link #batchValues} writes them. */
    private static final String BATCH_COLUMNS =
            "id, expected, state, started, ready, inc, gen, seq, active, recorded, version";
    /** How a batch's VALUES row {@code i} is written to its row {@code r}. */
    private static final String BATCH_ASSIGNMENTS = "lifecycle_state = i.state, started_at_nanos = i.started, "
            + "ready_at_nanos = i.ready, last_incarnation = i.inc, last_generation = i.gen, last_seq = i.seq, "
            + "active = i.active, duration_recorded = i.recorded, row_version = i.version";
    private static final String[] BATCH_TYPES = {"VARCHAR", "BIGINT", "VARCHAR", "BIGINT", "BIGINT", "VARCHAR", "BIGINT",
            "BIGINT", "BOOLEAN", "BOOLEAN", "BIGINT"};

    /**
     * The rows of a batch's VALUES list, one per compare-and-set, each parameter cast to its
     * column's type (both databases take {@code CAST}); with {@code notes}, each row also carries
     * its NOTIFY text and the number of the payload it goes in (rows packed under the size limit).
     */
    private static String batchValues(List<RowWriter.CompareAndSet> batch, String[] notes) {
        StringBuilder values = new StringBuilder();
        int parameter = 0;
        for (int row = 0; row < batch.size(); row++) {
            values.append(row == 0 ? "(" : ", (");
            for (int column = 0; column < BATCH_TYPES.length; column++) {
                values.append(column == 0 ? "" : ", ").append("CAST($").append(++parameter).append(" AS ")
                        .append(BATCH_TYPES[column]).append(')');
            }
            if (notes != null) {
                values.append(", CAST($").append(++parameter).append(" AS TEXT), CAST($").append(++parameter)
                        .append(" AS INT)");
            }
            values.append(')');
        }
        return values.toString();
    }

    /** The parameters {@link #batchValues} names, in order. */
    private static Object[] batchParameters(List<RowWriter.CompareAndSet> batch, String[] notes) {
        List<Object> parameters = new ArrayList<>();
        int chunk = 0;
        int chunkBytes = 0;
        for (int i = 0; i < batch.size(); i++) {
            Object[] row = updateValues(batch.get(i).expected(), batch.get(i).next());
            // updateValues: state, started, ready, incarnation, generation, seq, active, recorded, version, id, expected
            parameters.addAll(Arrays.asList(row[9], row[10], row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                    row[7], row[8]));
            if (notes != null) {
                if (chunkBytes + notes[i].length() + 1 > NOTIFY_PAYLOAD_BYTES) {
                    chunk++;
                    chunkBytes = 0;
                }
                chunkBytes += notes[i].length() + 1;
                parameters.add(notes[i]);
                parameters.add(chunk);
            }
        }
        return parameters.toArray();
    }

    /** An H2 batch found a row away from its expected version: its MERGE is rolled back and redone row by row. */
    private static final class NotAllAtExpected extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final NotAllAtExpected INSTANCE = new NotAllAtExpected();

        private NotAllAtExpected() {
            super("a row of the batch is not at its expected version", null, false, false);
        }
    }

    /** The compare-and-set UPDATE of one row (no NOTIFY: the H2 fallback); emits whether the row was written. */
    private Mono<Boolean> update(Connection connection, AgentRow expected, AgentRow next) {
        return execute(connection, UPDATE_ROW, updateValues(expected, next)).map(updated -> updated == 1);
    }

    private static Object[] updateValues(AgentRow expected, AgentRow next) {
        return new Object[] {next.state().name(), nullableNanos(next.startedAt()), nullableNanos(next.readyAt()),
                next.lastChain() == null ? Null.STRING : next.lastChain().incarnation(),
                next.lastChain() == null ? Null.LONG : (Object) next.lastChain().generation(),
                next.lastSeq(), next.active(), next.buildDurationRecorded(), next.version(),
                expected.agentId().value(), expected.version()};
    }

    @Override
    public Flux<AgentRow> changes() {
        return Flux.merge(localChanges.asFlux(), remoteChanges.onBackpressureBuffer());
    }

    /**
     * Rows other replicas wrote, as announced by NOTIFY (each payload carries its rows, one or
     * more, so nothing is read back); reconnects with backoff if the listener drops.
     */
    private Flux<AgentRow> listen() {
        return Flux.usingWhen(Mono.from(listening.create()).cast(PostgresqlConnection.class),
                        connection -> connection.createStatement("LISTEN " + CHANNEL).execute()
                                .flatMap(PostgresqlResult::getRowsUpdated)
                                // Notifications cannot be backpressured: buffer them while rows are read.
                                .thenMany(connection.getNotifications().onBackpressureBuffer()),
                        Connection::close)
                // This replica's own writes were published locally when they committed: skip their
                // payloads before decoding them (a batch's payload carries up to some thirty rows).
                .filter(notification -> !RowNotification.isFrom(replica, notification.getParameter()))
                .flatMapIterable(notification -> RowNotification.decodeAll(notification.getParameter()))
                .concatMap(decoded -> decoded.row().map(Mono::just).orElseGet(() -> findRow(decoded.agentId())))
                .doOnNext(this::remember)
                .doOnError(error -> log.warn("listening for row changes failed, listening again: {}", error.toString()))
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(5)));
    }

    // ---- WorkspaceStore ---------------------------------------------------------------------

    @Override
    public Mono<Boolean> createWorkspace(Workspace workspace, String identityHash) {
        Objects.requireNonNull(workspace, "workspace");
        Objects.requireNonNull(identityHash, "identityHash");
        return inTransaction(connection -> execute(connection,
                "INSERT INTO workspaces (name, agent_name, identity_hash) VALUES ($1, $2, $3)",
                workspace.name(), workspace.agentName(), identityHash)
                .thenMany(scriptInserts(connection, workspace.name(), 1, workspace.startupScripts(),
                        workspace.shutdownScripts()))
                .then(Mono.just(true)))
                .last()
                .onErrorResume(R2dbcDataIntegrityViolationException.class, duplicate -> Mono.just(false));
    }

    @Override
    public Mono<Long> updateScripts(String name, long currentRevision, List<Script> startupScripts,
            List<Script> shutdownScripts) {
        Objects.requireNonNull(name, "name");
        List<Script> startup = List.copyOf(startupScripts);
        List<Script> shutdown = List.copyOf(shutdownScripts);
        long next = currentRevision + 1;
        // A compare-and-set on the revision: of two updates from one revision, one changes no row
        // and writes nothing; the other's UPDATE holds the workspace's row until it commits.
        return inTransaction(connection -> execute(connection,
                "UPDATE workspaces SET scripts_revision = $1 WHERE name = $2 AND scripts_revision = $3",
                next, name, currentRevision)
                .filter(updated -> updated > 0)
                .flatMap(updated -> scriptInserts(connection, name, next, startup, shutdown).then(Mono.just(next))))
                .next();
    }

    @Override
    public Mono<Long> scriptsRevision(String name) {
        Objects.requireNonNull(name, "name");
        return workspaceReads.read(new WorkspaceAt(name, CURRENT_REVISION)).map(WorkspaceRevision::revision);
    }

    @Override
    public Mono<String> adminTokenHash() {
        return withConnection(connection -> query(connection, "SELECT token_hash FROM admin_credentials WHERE id = 1",
                readable -> readable.get("token_hash", String.class)))
                .next();
    }

    @Override
    public Mono<Boolean> initializeAdminTokenHash(String tokenHash) {
        Objects.requireNonNull(tokenHash, "tokenHash");
        // The one row's key decides between replicas starting at once: the second insert fails.
        return inTransaction(connection -> execute(connection,
                "INSERT INTO admin_credentials (id, token_hash) VALUES (1, $1)", tokenHash))
                .then(Mono.just(true))
                .onErrorResume(R2dbcDataIntegrityViolationException.class, taken -> Mono.just(false));
    }

    @Override
    public Mono<Void> replaceAdminTokenHash(String tokenHash) {
        Objects.requireNonNull(tokenHash, "tokenHash");
        return inTransaction(connection -> execute(connection,
                "UPDATE admin_credentials SET token_hash = $1 WHERE id = 1", tokenHash)
                .flatMap(updated -> updated > 0 ? Mono.just(updated) : execute(connection,
                        "INSERT INTO admin_credentials (id, token_hash) VALUES (1, $1)", tokenHash)))
                .then();
    }

    @Override
    public Mono<Boolean> replaceIdentity(String name, String identityHash) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(identityHash, "identityHash");
        return inTransaction(connection -> execute(connection, "UPDATE workspaces SET identity_hash = $1 WHERE name = $2",
                identityHash, name))
                .next()
                .map(updated -> updated > 0);
    }

    @Override
    public Mono<Boolean> deleteWorkspace(String name) {
        Objects.requireNonNull(name, "name");
        return inTransaction(connection -> execute(connection,
                        "DELETE FROM workspace_script_revisions WHERE workspace = $1", name)
                .then(execute(connection, "DELETE FROM workspaces WHERE name = $1", name)))
                .next()
                .map(deleted -> deleted > 0);
    }

    @Override
    public Mono<Void> forgetCredentials(String workspace, java.util.Collection<AgentId> rows) {
        Objects.requireNonNull(workspace, "workspace");
        // Through the writer, which writes every credential: one writer for the token tables.
        return writer.submit(new RowWriter.ForgetCredentials(workspace, List.copyOf(rows))).then();
    }

    /** Writes one revision of a workspace's scripts: its startup ("start") and shutdown ("stop") phases. */
    private Flux<Long> scriptInserts(Connection connection, String workspace, long revision, List<Script> startup,
            List<Script> shutdown) {
        return Flux.concat(scriptInserts(connection, workspace, revision, "start", startup),
                scriptInserts(connection, workspace, revision, "stop", shutdown));
    }

    private Flux<Long> scriptInserts(Connection connection, String workspace, long revision, String phase,
            List<Script> scripts) {
        return Flux.range(0, scripts.size()).concatMap(index -> {
            Script script = scripts.get(index);
            return execute(connection, "INSERT INTO workspace_script_revisions (workspace, revision, phase, "
                            + "script_index, command, timeout_millis, blocks_login) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    workspace, revision, phase, index, script.command(), script.timeout().toMillis(),
                    script.blocksLogin());
        });
    }

    @Override
    public Mono<Workspace> findWorkspace(String name) {
        return workspaceAt(name, CURRENT_REVISION);
    }

    @Override
    public Mono<Workspace> findWorkspace(String name, long scriptsRevision) {
        if (scriptsRevision < 1) {
            throw new IllegalArgumentException("scriptsRevision: from 1, was " + scriptsRevision);
        }
        return workspaceAt(name, scriptsRevision);
    }

    /** Stands for the workspace's current revision, whichever it is when read. */
    private static final long CURRENT_REVISION = 0;

    private Mono<Workspace> workspaceAt(String name, long scriptsRevision) {
        Objects.requireNonNull(name, "name");
        return workspaceReads.read(new WorkspaceAt(name, scriptsRevision)).map(WorkspaceRevision::workspace);
    }

    /** A workspace as of a revision of its scripts ({@link #CURRENT_REVISION}: the current one). */
    private record WorkspaceAt(String name, long revision) {
    }

    /** A workspace as read, with the revision of its scripts it was read at. */
    private record WorkspaceRevision(Workspace workspace, long revision) {
    }

    /**
     * The workspaces at these revisions, in two statements on one connection whatever their
     * number (each result consumed whole before the next statement runs): the workspaces, then
     * the scripts of the revisions asked. A workspace that does not exist, or a revision it has not
     * reached, is left out.
     */
    private Mono<Map<WorkspaceAt, WorkspaceRevision>> workspacesAt(List<WorkspaceAt> keys) {
        Object[] names = keys.stream().map(WorkspaceAt::name).distinct().toArray();
        return withConnection(connection -> query(connection,
                        "SELECT w.name, w.agent_name, w.scripts_revision FROM workspaces w JOIN "
                                + namesTable(1, names.length) + " ON w.name = n.name",
                        readable -> new Object[] {readable.get("name", String.class), readable.get("agent_name", String.class),
                                number(readable, "scripts_revision")}, names)
                .collectList()
                .flatMap(found -> {
                    Map<String, Object[]> byName = new HashMap<>();
                    found.forEach(workspace -> byName.put((String) workspace[0], workspace));
                    Map<WorkspaceAt, Long> revisions = new HashMap<>();
                    for (WorkspaceAt key : keys) {
                        Object[] workspace = byName.get(key.name());
                        if (workspace != null) {
                            long current = (long) workspace[2];
                            long revision = key.revision() == CURRENT_REVISION ? current : key.revision();
                            if (revision <= current) {
                                revisions.put(key, revision);
                            }
                        }
                    }
                    if (revisions.isEmpty()) {
                        return Mono.just(Map.<WorkspaceAt, WorkspaceRevision>of());
                    }
                    Object[] namesFound = revisions.keySet().stream().map(WorkspaceAt::name).distinct().toArray();
                    Object[] revisionsAsked = revisions.values().stream().distinct().toArray();
                    Object[] parameters = new Object[namesFound.length + revisionsAsked.length];
                    System.arraycopy(namesFound, 0, parameters, 0, namesFound.length);
                    System.arraycopy(revisionsAsked, 0, parameters, namesFound.length, revisionsAsked.length);
                    // Every asked name with every asked revision: a few pairs more than asked, at most,
                    // when workspaces at different revisions are read together; the map below keeps the asked ones.
                    return query(connection, "SELECT s.* FROM workspace_script_revisions s JOIN "
                                    + namesTable(1, namesFound.length) + " ON s.workspace = n.name WHERE s.revision IN ("
                                    + placeholders(namesFound.length + 1, revisionsAsked.length)
                                    + ") ORDER BY s.workspace, s.revision, s.phase, s.script_index",
                            readable -> new Object[] {readable.get("workspace", String.class), number(readable, "revision"),
                                    readable.get("phase", String.class), script(readable)}, parameters)
                            .collectList()
                            .map(scripts -> {
                                Map<WorkspaceAt, List<List<Script>>> phases = new HashMap<>();
                                for (Object[] script : scripts) {
                                    WorkspaceAt at = new WorkspaceAt((String) script[0], (long) script[1]);
                                    phases.computeIfAbsent(at, ignored -> List.of(new ArrayList<>(), new ArrayList<>()))
                                            .get("start".equals(script[2]) ? 0 : 1).add((Script) script[3]);
                                }
                                Map<WorkspaceAt, WorkspaceRevision> read = new HashMap<>();
                                revisions.forEach((key, revision) -> {
                                    List<List<Script>> both = phases.getOrDefault(new WorkspaceAt(key.name(), revision),
                                            List.of(List.of(), List.of()));
                                    Workspace workspace = new Workspace(key.name(), (String) byName.get(key.name())[1],
                                            both.get(0), both.get(1));
                                    read.put(key, new WorkspaceRevision(workspace, revision));
                                });
                                return read;
                            });
                }))
                .next();
    }

    @Override
    public Flux<Workspace> listWorkspaces() {
        // Two reads on one connection, each consumed whole before the next: the names, then every script.
        return withConnection(connection -> query(connection, "SELECT name, agent_name FROM workspaces ORDER BY name",
                        readable -> new String[] {readable.get("name", String.class), readable.get("agent_name", String.class)})
                .collectList()
                .flatMapMany(names -> query(connection,
                        "SELECT s.* FROM workspace_script_revisions s JOIN workspaces w "
                                + "ON s.workspace = w.name AND s.revision = w.scripts_revision "
                                + "ORDER BY s.workspace, s.phase, s.script_index",
                        readable -> new Object[] {readable.get("workspace", String.class), readable.get("phase", String.class),
                                script(readable)})
                        .collectList()
                        .flatMapIterable(scripts -> {
                            Map<String, List<List<Script>>> byWorkspace = new HashMap<>();
                            for (Object[] row : scripts) {
                                List<List<Script>> phases = byWorkspace.computeIfAbsent((String) row[0],
                                        ignored -> List.of(new ArrayList<>(), new ArrayList<>()));
                                phases.get("start".equals(row[1]) ? 0 : 1).add((Script) row[2]);
                            }
                            List<List<Script>> none = List.of(List.of(), List.of());
                            return names.stream().map(name -> {
                                List<List<Script>> phases = byWorkspace.getOrDefault(name[0], none);
                                return new Workspace(name[0], name[1], phases.get(0), phases.get(1));
                            }).toList();
                        })));
    }

    private static Script script(io.r2dbc.spi.Readable readable) {
        return new Script(readable.get("command", String.class), Duration.ofMillis(number(readable, "timeout_millis")),
                Boolean.TRUE.equals(readable.get("blocks_login", Boolean.class)));
    }

    @Override
    public Mono<StoredWorkspace> findByIdentityHash(String identityHash) {
        return withConnection(connection -> query(connection,
                "SELECT name FROM workspaces WHERE identity_hash = $1", readable -> readable.get("name", String.class),
                identityHash))
                .next()
                .flatMap(name -> findWorkspace(name).map(workspace -> new StoredWorkspace(workspace, identityHash)));
    }

    /** That revision of the workspace's startup scripts (index 0) and shutdown scripts (index 1), in order. */
    @Override
    public Mono<Void> saveSessionToken(String tokenHash, AgentId agentId) {
        Objects.requireNonNull(tokenHash, "tokenHash");
        Objects.requireNonNull(agentId, "agentId");
        // Through the writer: a crowd of agents exchanging at once shares a commit per batch.
        return writer.submit(new RowWriter.SaveToken(RowWriter.TokenKind.SESSION, tokenHash, agentId.value())).then();
    }

    @Override
    public Mono<StoredSessionToken> findSessionToken(String tokenHash) {
        return withConnection(connection -> query(connection,
                "SELECT agent_id FROM session_tokens WHERE token_hash = $1",
                readable -> new StoredSessionToken(tokenHash, AgentId.of(readable.get("agent_id", String.class))), tokenHash))
                .next();
    }

    @Override
    public Mono<Void> saveConnectionToken(String tokenHash, String workspace) {
        Objects.requireNonNull(tokenHash, "tokenHash");
        Objects.requireNonNull(workspace, "workspace");
        // Through the writer: a crowd of agents exchanging at once shares a commit per batch.
        return writer.submit(new RowWriter.SaveToken(RowWriter.TokenKind.CONNECTION, tokenHash, workspace)).then();
    }

    @Override
    public Mono<StoredConnectionToken> findConnectionToken(String tokenHash) {
        return withConnection(connection -> query(connection,
                "SELECT workspace FROM connection_tokens WHERE token_hash = $1",
                readable -> new StoredConnectionToken(tokenHash, readable.get("workspace", String.class)), tokenHash))
                .next();
    }

    // ---- plumbing -------------------------------------------------------------------------------

    /**
     * Closes the store: new writes are refused (RESOURCE_EXHAUSTED, retryable), every write already
     * taken is committed, then new reads are refused the same way and the reads already started end,
     * then the pools close; completes once every connection is closed. (A pool closed under a read
     * waiting for a connection failed it, and when its caller had gone the error was dropped.)
     */
    public Mono<Void> close() {
        return writer.close()
                .then(Mono.defer(() -> {
                    closing = true;
                    if (inFlight.get() == 0) {
                        signalDrained();
                    }
                    return drained.asMono();
                }))
                .then(pool.disposeLater())
                .then(writerPool.disposeLater());
    }

    private void signalDrained() {
        Sinks.EmitResult result = drained.tryEmitEmpty();
        // Already signalled, or being signalled by another thread right now: either way it completes.
        if (result.isFailure() && result != Sinks.EmitResult.FAIL_TERMINATED
                && result != Sinks.EmitResult.FAIL_NON_SERIALIZED) {
            log.warn("could not signal that the store's reads ended: {}", result);
        }
    }

    /**
     * Registers this store's meters in {@code meters}: {@code agentcore.store.commit} (timer of each
     * batch from its start to its commit, tagged {@code kind}), {@code agentcore.store.batch.size}
     * (distribution of the writes per batch, tagged {@code kind}), {@code agentcore.store.queued}
     * (gauge of the writes waiting for a batch) and {@code agentcore.store.connections} (gauge of
     * pooled connections in use). One registry per store: a later call replaces the commit meters'.
     */
    @Override
    public void bindTo(MeterRegistry meters) {
        Objects.requireNonNull(meters, "meters");
        Map<String, Timer> commits = new ConcurrentHashMap<>();
        Map<String, DistributionSummary> sizes = new ConcurrentHashMap<>();
        writer.observe((kind, size, nanos) -> {
            commits.computeIfAbsent(kind, name -> Timer.builder("agentcore.store.commit").tag("kind", name)
                    .description("Store write batches, from the batch's start to its commit").register(meters))
                    .record(nanos, TimeUnit.NANOSECONDS);
            sizes.computeIfAbsent(kind, name -> DistributionSummary.builder("agentcore.store.batch.size").tag("kind", name)
                    .description("Writes per committed batch").register(meters))
                    .record(size);
        });
        Gauge.builder("agentcore.store.queued", writer, RowWriter::queued)
                .description("Store writes waiting for a batch").register(meters);
        Gauge.builder("agentcore.store.connections", this, R2dbcAgentStore::connectionsInUse)
                .description("Pooled database connections in use, the writer's included").register(meters);
    }

    /** What this store's writer has committed since it opened: batches, writes and batch sizes. */
    public WriteStats writeStats() {
        return writer.stats();
    }

    /** Starts closing the connection pool, without waiting (r2dbc-pool's own dispose() blocks). */
    @Override
    public void dispose() {
        close().subscribe(null, error -> log.warn("closing the connection pool failed: {}", error.toString()));
    }

    @Override
    public boolean isDisposed() {
        return pool.isDisposed();
    }

    /**
     * Runs {@code work} on a pooled connection to its end, whatever the caller does: a connection
     * given back to the pool while its statement still runs would be handed to the next caller
     * mid-conversation (on PostgreSQL its replies then mix with the next query's). A caller that
     * cancels only stops waiting.
     */
    private <T> Flux<T> withConnection(Function<Connection, ? extends Publisher<T>> work) {
        return toTheEnd(Flux.usingWhen(pool.create(), work, Connection::close));
    }

    /** Runs {@code work} in a transaction to its end, whatever the caller does; emits once committed. */
    private <T> Flux<T> inTransaction(Function<Connection, ? extends Publisher<T>> work) {
        return toTheEnd(committed(pool, connection -> Flux.from(work.apply(connection)).collectList())
                .flatMapIterable(all -> all));
    }

    /**
     * Runs {@code work} and collects what it emits, shielded from the caller's cancellation; counted
     * in flight until it ends, so that {@link #close()} waits for it. Refused once the store closes.
     */
    private <T> Flux<T> toTheEnd(Flux<T> work) {
        return Mono.defer(() -> {
            inFlight.incrementAndGet();
            if (closing) {
                ended();
                return Mono.<List<T>>error(new AgentcoreException(ErrorCode.RESOURCE_EXHAUSTED,
                        "the control plane's store is closing and takes no more requests: retry, on another replica if any"));
            }
            Mono<List<T>> all = work.collectList().subscribeOn(scheduler).doFinally(any -> ended());
            return Mono.fromFuture(all::toFuture, true);
        }).flatMapIterable(values -> values);
    }

    private void ended() {
        if (inFlight.decrementAndGet() == 0 && closing) {
            signalDrained();
        }
    }

    /**
     * Runs {@code work} in a transaction and emits its value once the transaction has committed
     * (and, on H2, been forced to disk); rolls back on error. Only the writer and the shielded
     * paths above call it, so it is never cancelled half-way.
     */
    private <T> Mono<T> committed(ConnectionPool from, Function<Connection, Mono<T>> work) {
        return Mono.usingWhen(from.create(),
                        connection -> Mono.from(connection.beginTransaction())
                                .then(work.apply(connection))
                                .flatMap(value -> Mono.from(connection.commitTransaction())
                                        .then(sync(connection))
                                        .thenReturn(value)),
                        Connection::close,
                        (connection, error) -> Mono.from(connection.rollbackTransaction()).then(Mono.from(connection.close())),
                        connection -> Mono.from(connection.rollbackTransaction()).then(Mono.from(connection.close())))
                .subscribeOn(scheduler);
    }

    /** H2: forces what the commit wrote to the disk, so an acknowledged write survives a power loss. */
    private Mono<Void> sync(Connection connection) {
        return dialect == Dialect.H2 ? execute(connection, "CHECKPOINT SYNC").then() : Mono.empty();
    }

    /** A typed null to bind. */
    enum Null {
        LONG(Long.class), STRING(String.class);

        final Class<?> type;

        Null(Class<?> type) {
            this.type = type;
        }
    }

    static Statement bind(Statement statement, Object... values) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] instanceof Null typed) {
                statement.bindNull(i, typed.type);
            } else {
                statement.bind(i, values[i]);
            }
        }
        return statement;
    }

    /**
     * Runs a query and maps each row with {@code mapper}, inside the driver's callback: a row is
     * valid only there (PostgreSQL releases its buffer right after).
     */
    static <T> Flux<T> query(Connection connection, String sql, Function<? super Readable, ? extends T> mapper,
            Object... values) {
        return Flux.from(bind(connection.createStatement(sql), values).execute())
                .flatMap(result -> result.map(mapper::apply));
    }

    static Mono<Long> execute(Connection connection, String sql, Object... values) {
        return Flux.from(bind(connection.createStatement(sql), values).execute())
                .flatMap(Result::getRowsUpdated)
                .reduce(0L, Long::sum);
    }

    static long number(Readable readable, String column) {
        Number value = readable.get(column, Number.class);
        return value == null ? 0 : value.longValue();
    }

    private static AgentRow row(Readable r) {
        String incarnation = r.get("last_incarnation", String.class);
        return new AgentRow(AgentId.of(r.get("id", String.class)), r.get("workspace", String.class),
                number(r, "build_number"), instant(r.get("created_at_nanos", Long.class)),
                LifecycleState.valueOf(r.get("lifecycle_state", String.class)),
                instant(r.get("started_at_nanos", Long.class)), instant(r.get("ready_at_nanos", Long.class)),
                incarnation == null ? null : new ChainId(incarnation, number(r, "last_generation")),
                number(r, "last_seq"), Boolean.TRUE.equals(r.get("active", Boolean.class)),
                Boolean.TRUE.equals(r.get("duration_recorded", Boolean.class)), number(r, "row_version"),
                number(r, "scripts_revision"));
    }

    static long nanos(Instant instant) {
        return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000_000L), instant.getNano());
    }

    private static Object nullableNanos(Instant instant) {
        return instant == null ? Null.LONG : nanos(instant);
    }

    private static Instant instant(Long nanos) {
        return nanos == null ? null : Instant.ofEpochSecond(0, nanos);
    }

    private static String redact(String url) {
        return url.replaceAll("//[^@/]*@", "//<credentials>@");
    }
}
