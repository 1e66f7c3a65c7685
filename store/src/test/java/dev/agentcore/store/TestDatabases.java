package dev.agentcore.store;

import io.r2dbc.h2.H2ConnectionConfiguration;
import io.r2dbc.h2.H2ConnectionFactory;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Databases for tests. PostgreSQL is a real server: the one named by the environment variable
 * {@code AGENTCORE_TEST_POSTGRES_URL} (an r2dbc:postgresql URL to a database whose user may
 * CREATE DATABASE), or else an embedded PostgreSQL started once per test JVM from a Maven
 * artifact, so the tests need no database installed. Each test gets a database of its own.
 */
final class TestDatabases {

    static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static String serverUrl;

    private TestDatabases() {
    }

    /** The base URL of the PostgreSQL server, without a database name. */
    static synchronized String postgresServer() {
        if (serverUrl == null) {
            String given = System.getenv("AGENTCORE_TEST_POSTGRES_URL");
            if (given != null && !given.isBlank()) {
                serverUrl = given.substring(0, given.lastIndexOf('/'));
            } else {
                try {
                    EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try {
                            postgres.close();
                        } catch (IOException ignored) {
                            // the JVM is going away
                        }
                    }));
                    serverUrl = "r2dbc:postgresql://postgres@127.0.0.1:" + postgres.getPort();
                } catch (IOException e) {
                    throw new UncheckedIOException("could not start embedded PostgreSQL", e);
                }
            }
        }
        return serverUrl;
    }

    /** An unpooled connection factory to a new, empty database: PostgreSQL, or an H2 file in {@code directory}. */
    static ConnectionFactory connectionFactory(R2dbcAgentStore.Dialect dialect, Path directory) {
        if (dialect == R2dbcAgentStore.Dialect.POSTGRESQL) {
            return ConnectionFactories.get(newPostgresDatabase());
        }
        return new H2ConnectionFactory(H2ConnectionConfiguration.builder()
                .file(directory.toAbsolutePath().resolve("agentcore").toString())
                .property("WRITE_DELAY", "0")
                .build());
    }

    /** A URL to a new, empty PostgreSQL database. */
    static String newPostgresDatabase() {
        String server = postgresServer();
        String name = "agentcore_test_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
        ConnectionFactory admin = ConnectionFactories.get(server + "/postgres");
        Flux.usingWhen(admin.create(),
                        connection -> Flux.from(connection.createStatement("CREATE DATABASE " + name).execute())
                                .flatMap(result -> Mono.from(result.getRowsUpdated())),
                        connection -> connection.close())
                .then()
                .block(TIMEOUT);
        return server + "/" + name;
    }
}
