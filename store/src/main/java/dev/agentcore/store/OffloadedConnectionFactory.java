package dev.agentcore.store;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * A connection factory for a driver whose calls block (H2 runs in-process): opening a
 * connection, and every connection-level call (begin, commit, rollback, close, validate, ...),
 * runs on a scheduler made for blocking, whatever thread triggers it. Cleanup triggered by a
 * cancellation from an event loop (a rollback, a close) would otherwise block that loop.
 *
 * <p>The pool validates a connection at every acquire, and r2dbc-h2 answers by parsing and
 * running {@code SELECT CURRENT_TIMESTAMP}: about a tenth of the store threads' time at a
 * 10,000-agent build boundary. A connection that passed the driver's validation less than
 * {@link #VALIDATION_VALID_FOR} ago is taken as still valid at a local validation: a session
 * closed under it (a database closed by a fatal error) is still found, and replaced, within that
 * time. Even that
 * answer is given on the scheduler: the pool hands a released connection to a waiting borrower
 * inside its drain loop, on the releasing thread, and an answer given in place ran the borrower's
 * statements there too, one borrower after another (measured: in the 10,000-agent storm's
 * start-up nearly every agent then waited until the end, p50 148 s of 167 s).
 */
final class OffloadedConnectionFactory implements ConnectionFactory {

    /** How long a validation by the driver stands for the pool's validations at acquire. */
    static final Duration VALIDATION_VALID_FOR = Duration.ofSeconds(1);

    private final ConnectionFactory delegate;
    private final Scheduler scheduler;
    private final LongSupplier nanoTime;

    OffloadedConnectionFactory(ConnectionFactory delegate, Scheduler scheduler) {
        this(delegate, scheduler, System::nanoTime);
    }

    /** With the monotonic time source the validations' freshness is read from (tests move it). */
    OffloadedConnectionFactory(ConnectionFactory delegate, Scheduler scheduler, LongSupplier nanoTime) {
        this.delegate = delegate;
        this.scheduler = scheduler;
        this.nanoTime = nanoTime;
    }

    @Override
    public Publisher<? extends Connection> create() {
        return Mono.from(delegate.create()).map(OffloadedConnection::new).subscribeOn(scheduler);
    }

    @Override
    public ConnectionFactoryMetadata getMetadata() {
        return delegate.getMetadata();
    }

    private final class OffloadedConnection implements Connection {
        private final Connection connection;
        /** When the driver last said this connection is valid (System.nanoTime), if it ever did. */
        private volatile long validatedAt;
        private volatile boolean everValidated;

        OffloadedConnection(Connection connection) {
            this.connection = connection;
        }

        private <T> Publisher<T> offload(Publisher<T> call) {
            return Flux.from(call).subscribeOn(scheduler);
        }

        @Override
        public Publisher<Void> beginTransaction() {
            return offload(connection.beginTransaction());
        }

        @Override
        public Publisher<Void> beginTransaction(TransactionDefinition definition) {
            return offload(connection.beginTransaction(definition));
        }

        @Override
        public Publisher<Void> close() {
            return offload(connection.close());
        }

        @Override
        public Publisher<Void> commitTransaction() {
            return offload(connection.commitTransaction());
        }

        @Override
        public Batch createBatch() {
            return connection.createBatch();
        }

        @Override
        public Publisher<Void> createSavepoint(String name) {
            return offload(connection.createSavepoint(name));
        }

        @Override
        public Statement createStatement(String sql) {
            return connection.createStatement(sql);
        }

        @Override
        public boolean isAutoCommit() {
            return connection.isAutoCommit();
        }

        @Override
        public ConnectionMetadata getMetadata() {
            return connection.getMetadata();
        }

        @Override
        public IsolationLevel getTransactionIsolationLevel() {
            return connection.getTransactionIsolationLevel();
        }

        @Override
        public Publisher<Void> releaseSavepoint(String name) {
            return offload(connection.releaseSavepoint(name));
        }

        @Override
        public Publisher<Void> rollbackTransaction() {
            return offload(connection.rollbackTransaction());
        }

        @Override
        public Publisher<Void> rollbackTransactionToSavepoint(String name) {
            return offload(connection.rollbackTransactionToSavepoint(name));
        }

        @Override
        public Publisher<Void> setAutoCommit(boolean autoCommit) {
            return offload(connection.setAutoCommit(autoCommit));
        }

        @Override
        public Publisher<Void> setLockWaitTimeout(Duration timeout) {
            return offload(connection.setLockWaitTimeout(timeout));
        }

        @Override
        public Publisher<Void> setStatementTimeout(Duration timeout) {
            return offload(connection.setStatementTimeout(timeout));
        }

        @Override
        public Publisher<Void> setTransactionIsolationLevel(IsolationLevel level) {
            return offload(connection.setTransactionIsolationLevel(level));
        }

        @Override
        public Publisher<Boolean> validate(ValidationDepth depth) {
            return Mono.defer(() -> {
                long now = nanoTime.getAsLong();
                if (depth == ValidationDepth.LOCAL && everValidated && now - validatedAt < VALIDATION_VALID_FOR.toNanos()) {
                    return Mono.from(offload(Mono.just(Boolean.TRUE)));
                }
                return Mono.from(offload(connection.validate(depth))).doOnNext(valid -> {
                    if (valid) {
                        validatedAt = now;
                        everValidated = true;
                    }
                });
            });
        }
    }
}
