package dev.agentcore.store;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * A connection factory that can stop a write at any one of its steps, for tests that cancel the
 * caller right there: {@code acquire} (opening a connection), {@code begin}, {@code execute} (a
 * statement sent), {@code result} (the database did the work; its result not yet delivered),
 * {@code commit}, {@code rollback}, {@code close}. Either one step is armed and holds until
 * released ({@link #holdAt}), or every step waits a seeded random few milliseconds
 * ({@link #jitter}).
 */
final class SteppedConnectionFactory implements ConnectionFactory {

    static final List<String> STEPS = List.of("acquire", "begin", "execute", "result", "commit", "rollback", "close");

    /** One armed step: signals when a write reaches it and holds that write until released. */
    static final class Hold {
        final String step;
        final Sinks.One<String> reached = Sinks.one();
        final Sinks.Empty<Void> released = Sinks.empty();

        Hold(String step) {
            this.step = step;
        }

        /** Completes when a write has reached the step. */
        Mono<String> reached() {
            return reached.asMono();
        }

        void release() {
            released.emitEmpty(Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
        }
    }

    private final ConnectionFactory delegate;
    private final AtomicReference<Hold> armed = new AtomicReference<>();
    private volatile Random jitter;
    private volatile int maxJitterMillis;

    SteppedConnectionFactory(ConnectionFactory delegate) {
        this.delegate = delegate;
    }

    /** The next write to reach {@code step} holds there until the returned hold is released. */
    Hold holdAt(String step) {
        if (!STEPS.contains(step)) {
            throw new IllegalArgumentException("step: one of " + STEPS + ", was " + step);
        }
        Hold hold = new Hold(step);
        armed.set(hold);
        return hold;
    }

    /**
     * Holds {@code count} statements, one after another: each time, {@code start} starts a read that
     * is held at its statement before the next starts. Returns the holds, to release.
     */
    List<Hold> holdEachAtItsStatement(int count, Runnable start) {
        List<Hold> holds = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Hold hold = holdAt("execute");
            holds.add(hold);
            start.run();
            hold.reached().block(Duration.ofSeconds(30));
        }
        return holds;
    }

    /** No step holds any more. */
    void disarm() {
        armed.set(null);
    }

    /** From now on every step waits a random 0 to {@code maxMillis} ms, drawn from {@code random}. */
    void jitter(Random random, int maxMillis) {
        this.maxJitterMillis = maxMillis;
        this.jitter = random;
    }

    void noJitter() {
        this.jitter = null;
    }

    /** What happens at {@code step}: nothing, a random pause, or a hold if it is armed. */
    private Mono<Void> step(String step) {
        return Mono.defer(() -> {
            Hold hold = armed.get();
            if (hold != null && hold.step.equals(step) && armed.compareAndSet(hold, null)) {
                hold.reached.tryEmitValue(step).orThrow();
                return hold.released.asMono();
            }
            Random random = jitter;
            if (random != null) {
                int millis;
                synchronized (random) {
                    millis = random.nextInt(maxJitterMillis + 1);
                }
                // Resumes on a thread that may block, as the driver itself would.
                return millis == 0 ? Mono.empty() : Mono.delay(Duration.ofMillis(millis), Schedulers.boundedElastic()).then();
            }
            return Mono.empty();
        });
    }

    private <T> Flux<T> before(String step, Publisher<T> call) {
        return step(step).thenMany(call);
    }

    @Override
    public Publisher<? extends Connection> create() {
        return step("acquire").then(Mono.from(delegate.create())).map(SteppedConnection::new);
    }

    @Override
    public ConnectionFactoryMetadata getMetadata() {
        return delegate.getMetadata();
    }

    private final class SteppedConnection implements Connection {
        private final Connection connection;

        SteppedConnection(Connection connection) {
            this.connection = connection;
        }

        @Override
        public Publisher<Void> beginTransaction() {
            return before("begin", Flux.defer(connection::beginTransaction));
        }

        @Override
        public Publisher<Void> beginTransaction(TransactionDefinition definition) {
            return before("begin", Flux.defer(() -> connection.beginTransaction(definition)));
        }

        @Override
        public Publisher<Void> close() {
            return before("close", Flux.defer(connection::close));
        }

        @Override
        public Publisher<Void> commitTransaction() {
            return before("commit", Flux.defer(connection::commitTransaction));
        }

        @Override
        public Batch createBatch() {
            return connection.createBatch();
        }

        @Override
        public Publisher<Void> createSavepoint(String name) {
            return connection.createSavepoint(name);
        }

        @Override
        public Statement createStatement(String sql) {
            return new SteppedStatement(connection.createStatement(sql));
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
            return connection.releaseSavepoint(name);
        }

        @Override
        public Publisher<Void> rollbackTransaction() {
            return before("rollback", Flux.defer(connection::rollbackTransaction));
        }

        @Override
        public Publisher<Void> rollbackTransactionToSavepoint(String name) {
            return connection.rollbackTransactionToSavepoint(name);
        }

        @Override
        public Publisher<Void> setAutoCommit(boolean autoCommit) {
            return connection.setAutoCommit(autoCommit);
        }

        @Override
        public Publisher<Void> setLockWaitTimeout(Duration timeout) {
            return connection.setLockWaitTimeout(timeout);
        }

        @Override
        public Publisher<Void> setStatementTimeout(Duration timeout) {
            return connection.setStatementTimeout(timeout);
        }

        @Override
        public Publisher<Void> setTransactionIsolationLevel(IsolationLevel level) {
            return connection.setTransactionIsolationLevel(level);
        }

        @Override
        public Publisher<Boolean> validate(ValidationDepth depth) {
            return connection.validate(depth);
        }
    }

    private final class SteppedStatement implements Statement {
        private final Statement statement;

        SteppedStatement(Statement statement) {
            this.statement = statement;
        }

        @Override
        public Statement add() {
            statement.add();
            return this;
        }

        @Override
        public Statement bind(int index, Object value) {
            statement.bind(index, value);
            return this;
        }

        @Override
        public Statement bind(String name, Object value) {
            statement.bind(name, value);
            return this;
        }

        @Override
        public Statement bindNull(int index, Class<?> type) {
            statement.bindNull(index, type);
            return this;
        }

        @Override
        public Statement bindNull(String name, Class<?> type) {
            statement.bindNull(name, type);
            return this;
        }

        @Override
        public Publisher<? extends Result> execute() {
            return before("execute", Flux.defer(statement::execute)).map(SteppedResult::new);
        }
    }

    /** Holds back what the database answered (already done) until the {@code result} step passes. */
    private final class SteppedResult implements Result {
        private final Result result;

        SteppedResult(Result result) {
            this.result = result;
        }

        private <T> Flux<T> held(Publisher<T> answer) {
            return Flux.from(answer).collectList().flatMapMany(values -> step("result").thenMany(Flux.fromIterable(values)));
        }

        @Override
        public Publisher<Long> getRowsUpdated() {
            return held(result.getRowsUpdated());
        }

        @Override
        public <T> Publisher<T> map(BiFunction<Row, RowMetadata, ? extends T> mappingFunction) {
            return held(result.map(mappingFunction));
        }

        @Override
        public <T> Publisher<T> map(Function<? super Readable, ? extends T> mappingFunction) {
            return held(result.map(mappingFunction));
        }

        @Override
        public Result filter(Predicate<Segment> filter) {
            return new SteppedResult(result.filter(filter));
        }

        @Override
        public <T> Publisher<T> flatMap(Function<Segment, ? extends Publisher<? extends T>> mappingFunction) {
            return held(result.flatMap(mappingFunction));
        }
    }
}
