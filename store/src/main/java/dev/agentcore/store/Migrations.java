package dev.agentcore.store;

import dev.agentcore.store.R2dbcAgentStore.Dialect;
import io.r2dbc.spi.Connection;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The schema, as numbered migrations applied in order at start-up, each recorded in
 * {@code agentcore_schema}. Applying is idempotent: a database already at the latest version is
 * left alone. A database at a version this code does not know is refused. On PostgreSQL an
 * advisory lock makes replicas starting together take turns.
 */
final class Migrations {

    private static final long ADVISORY_LOCK = 0x6167656E74636FL; // "agentco"

    /** Migration n is at index n - 1; never edit one that has shipped, add the next. */
    static final List<List<String>> VERSIONS = List.of(List.of(
            """
            CREATE TABLE workspaces (
              name VARCHAR(64) PRIMARY KEY,
              agent_name VARCHAR(256) NOT NULL,
              identity_hash VARCHAR(64) NOT NULL UNIQUE
            )""",
            """
            CREATE TABLE workspace_scripts (
              workspace VARCHAR(64) NOT NULL,
              phase VARCHAR(16) NOT NULL,
              script_index INT NOT NULL,
              command VARCHAR(8192) NOT NULL,
              timeout_millis BIGINT NOT NULL,
              blocks_login BOOLEAN NOT NULL,
              PRIMARY KEY (workspace, phase, script_index)
            )""",
            """
            CREATE TABLE session_tokens (
              token_hash VARCHAR(64) PRIMARY KEY,
              agent_id VARCHAR(64) NOT NULL
            )""",
            """
            CREATE TABLE agent_rows (
              id VARCHAR(64) PRIMARY KEY,
              workspace VARCHAR(64) NOT NULL,
              build_number BIGINT NOT NULL,
              created_at_nanos BIGINT NOT NULL,
              lifecycle_state VARCHAR(32) NOT NULL,
              started_at_nanos BIGINT,
              ready_at_nanos BIGINT,
              last_incarnation VARCHAR(128),
              last_generation BIGINT,
              last_seq BIGINT NOT NULL,
              active BOOLEAN NOT NULL,
              duration_recorded BOOLEAN NOT NULL,
              row_version BIGINT NOT NULL,
              CONSTRAINT agent_rows_build UNIQUE (workspace, build_number)
            )"""),
            // 2: protocol v2's connection tokens, bound to a workspace rather than a row.
            List.of("""
            CREATE TABLE connection_tokens (
              token_hash VARCHAR(64) PRIMARY KEY,
              workspace VARCHAR(64) NOT NULL
            )"""),
            // 3: a workspace's scripts as numbered revisions, never edited once written; each row
            // records the revision its build started with, so an update never changes a running row's
            // manifest. What was there is revision 1 of every workspace and every row.
            List.of(
                    "ALTER TABLE workspaces ADD COLUMN scripts_revision BIGINT DEFAULT 1 NOT NULL",
                    """
                    CREATE TABLE workspace_script_revisions (
                      workspace VARCHAR(64) NOT NULL,
                      revision BIGINT NOT NULL,
                      phase VARCHAR(16) NOT NULL,
                      script_index INT NOT NULL,
                      command VARCHAR(8192) NOT NULL,
                      timeout_millis BIGINT NOT NULL,
                      blocks_login BOOLEAN NOT NULL,
                      PRIMARY KEY (workspace, revision, phase, script_index)
                    )""",
                    "INSERT INTO workspace_script_revisions (workspace, revision, phase, script_index, command, "
                            + "timeout_millis, blocks_login) SELECT workspace, 1, phase, script_index, command, "
                            + "timeout_millis, blocks_login FROM workspace_scripts",
                    "DROP TABLE workspace_scripts",
                    "ALTER TABLE agent_rows ADD COLUMN scripts_revision BIGINT DEFAULT 1 NOT NULL"),
            // 4: the deployment's admin token, by its hash: one for every replica on the database.
            List.of("""
            CREATE TABLE admin_credentials (
              id INT PRIMARY KEY,
              token_hash VARCHAR(64) NOT NULL
            )"""));

    static final int LATEST = VERSIONS.size();

    private Migrations() {
    }

    /** Brings the schema to {@link #LATEST}; run inside a transaction. */
    static Mono<Void> apply(Connection connection, Dialect dialect) {
        Mono<Void> lock = dialect == Dialect.POSTGRESQL
                ? R2dbcAgentStore.query(connection, "SELECT pg_advisory_xact_lock(" + ADVISORY_LOCK + ")", readable -> true).then()
                : Mono.empty();
        return lock
                .then(R2dbcAgentStore.execute(connection, "CREATE TABLE IF NOT EXISTS agentcore_schema ("
                        + "version INT PRIMARY KEY, applied_at_nanos BIGINT NOT NULL)"))
                .then(currentVersion(connection))
                .flatMapMany(current -> {
                    if (current > LATEST) {
                        return Flux.error(new IllegalStateException("the database's schema is at version " + current
                                + ", newer than this agentcore knows (" + LATEST + "): run a newer agentcore"));
                    }
                    return Flux.range(current + 1, LATEST - current).concatMap(version -> Flux.fromIterable(
                                    VERSIONS.get(version - 1))
                            .concatMap(sql -> R2dbcAgentStore.execute(connection, sql))
                            .then(R2dbcAgentStore.execute(connection,
                                    "INSERT INTO agentcore_schema (version, applied_at_nanos) VALUES ($1, $2)",
                                    version, System.currentTimeMillis() * 1_000_000L)));
                })
                .then();
    }

    static Mono<Integer> currentVersion(Connection connection) {
        return R2dbcAgentStore.query(connection, "SELECT COALESCE(MAX(version), 0) AS version FROM agentcore_schema",
                        readable -> (int) R2dbcAgentStore.number(readable, "version"))
                .next()
                .defaultIfEmpty(0);
    }
}
