package dev.agentcore.transport;

import io.netty.buffer.ByteBuf;
import io.rsocket.DuplexConnection;
import io.rsocket.plugins.DuplexConnectionInterceptor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * A client's own check that its control plane still answers: it notes when the connection last
 * received a frame (the control plane answers every keepalive, so a live one is never silent for
 * long) and closes the connection itself once it has been silent for the keepalive's max
 * lifetime. rsocket-java's keepalive should do the same, but it ends the connection only after
 * erroring every stream, on its timer thread; this watch does not depend on that path, and
 * {@link #onClose()} completes when the connection is closed, whatever state rsocket-java is in.
 */
final class LivenessWatch implements DuplexConnectionInterceptor {

    private static final Logger log = LoggerFactory.getLogger(LivenessWatch.class);

    private final Scheduler scheduler;
    private final Duration checkEvery;
    private final Duration maxSilence;
    private final Sinks.One<DuplexConnection> watched = Sinks.one();
    private volatile long lastReceivedMillis;
    /** When the awaited answer was asked for; -1 when none is awaited. */
    private volatile long awaitingSinceMillis = -1;
    private volatile Disposable watchdog;

    /** Checks every keepalive interval; leaves a connection silent for the keepalive's max lifetime. */
    LivenessWatch(Scheduler scheduler, KeepAlive keepAlive) {
        this.scheduler = scheduler;
        this.checkEvery = keepAlive.interval();
        this.maxSilence = keepAlive.maxLifetime();
    }

    @Override
    public DuplexConnection apply(Type type, DuplexConnection connection) {
        if (type != Type.SOURCE) {
            return connection;
        }
        lastReceivedMillis = now();
        watchdog = scheduler.schedulePeriodically(() -> check(connection), checkEvery.toMillis(), checkEvery.toMillis(),
                TimeUnit.MILLISECONDS);
        Sinks.EmitResult noted = watched.tryEmitValue(connection);
        if (noted.isFailure()) {
            // One watch per connection: a second source connection would be a bug here.
            throw new IllegalStateException("a LivenessWatch watches one connection, was offered another: " + noted);
        }
        return new Watched(connection);
    }

    /** Completes when the watched connection is closed, by whoever closed it. */
    Mono<Void> onClose() {
        return watched.asMono().flatMap(DuplexConnection::onClose).onErrorResume(error -> Mono.empty());
    }

    /**
     * The client sent the request the connection exists for (an exchange, the manifest) and
     * waits for its answer: unanswered for the max lifetime, the connection is closed too, even
     * if keepalives are answered (a control plane whose store hangs, or an answer lost).
     */
    void awaiting() {
        awaitingSinceMillis = now();
    }

    /** The awaited answer came. */
    void answered() {
        awaitingSinceMillis = -1;
    }

    private void check(DuplexConnection connection) {
        if (connection.isDisposed()) {
            watchdog.dispose();
            return;
        }
        long now = now();
        long silent = now - lastReceivedMillis;
        long since = awaitingSinceMillis;
        long unanswered = since < 0 ? -1 : now - since;
        if (silent >= maxSilence.toMillis() || unanswered >= maxSilence.toMillis()) {
            // Closed before anything else runs here: whatever the log line does, the connection is gone.
            watchdog.dispose();
            connection.dispose();
            if (silent >= maxSilence.toMillis()) {
                log.warn("nothing heard from {} for {} ms (more than the keepalive's max lifetime of {} ms): closed "
                        + "the connection", connection.remoteAddress(), silent, maxSilence.toMillis());
            } else {
                log.warn("no answer from {} for {} ms (more than the keepalive's max lifetime of {} ms), though it "
                        + "answers keepalives: closed the connection", connection.remoteAddress(), unanswered,
                        maxSilence.toMillis());
            }
        }
    }

    private long now() {
        return scheduler.now(TimeUnit.MILLISECONDS);
    }

    /** The connection as rsocket-java sees it, noting each frame received. */
    private final class Watched extends ForwardingDuplexConnection {
        Watched(DuplexConnection delegate) {
            super(delegate);
        }

        @Override
        public Flux<ByteBuf> receive() {
            return delegate.receive().doOnNext(frame -> lastReceivedMillis = now());
        }
    }
}
