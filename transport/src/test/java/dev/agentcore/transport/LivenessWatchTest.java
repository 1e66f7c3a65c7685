package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.rsocket.DuplexConnection;
import io.rsocket.RSocketErrorException;
import io.rsocket.plugins.DuplexConnectionInterceptor;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The client's own liveness check, in virtual time: silence past the max lifetime closes the connection. */
class LivenessWatchTest {

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final LivenessWatch watch = new LivenessWatch(time,
            new KeepAlive(Duration.ofMillis(100), Duration.ofSeconds(1)));

    /** A connection whose frames the test delivers and whose closing it observes. */
    private static final class TestConnection implements DuplexConnection {
        final Sinks.Many<ByteBuf> frames = Sinks.many().unicast().onBackpressureBuffer();
        final Sinks.Empty<Void> closed = Sinks.empty();
        final java.util.concurrent.atomic.AtomicInteger looked = new java.util.concurrent.atomic.AtomicInteger();

        void deliver() {
            frames.tryEmitNext(Unpooled.wrappedBuffer(new byte[] {0})).orThrow();
        }

        @Override
        public void sendFrame(int streamId, ByteBuf frame) {
            frame.release();
        }

        @Override
        public void sendErrorAndClose(RSocketErrorException error) {
            dispose();
        }

        @Override
        public Flux<ByteBuf> receive() {
            return frames.asFlux();
        }

        @Override
        public ByteBufAllocator alloc() {
            return ByteBufAllocator.DEFAULT;
        }

        @Override
        public SocketAddress remoteAddress() {
            return InetSocketAddress.createUnresolved("control-plane", 7878);
        }

        @Override
        public Mono<Void> onClose() {
            return closed.asMono();
        }

        @Override
        public void dispose() {
            closed.tryEmitEmpty();
        }

        @Override
        public boolean isDisposed() {
            looked.incrementAndGet();
            return closed.scan(reactor.core.Scannable.Attr.TERMINATED);
        }
    }

    @Test
    void aSilentControlPlaneIsLeftAfterTheMaxLifetimeAndFramesKeepItAlive() {
        TestConnection connection = new TestConnection();
        DuplexConnection watched = watch.apply(DuplexConnectionInterceptor.Type.SOURCE, connection);
        watched.receive().subscribe(ByteBuf::release);

        // Frames every 500 ms keep the connection open well past the max lifetime.
        for (int i = 0; i < 10; i++) {
            time.advanceTimeBy(Duration.ofMillis(500));
            connection.deliver();
        }
        assertThat(connection.isDisposed()).isFalse();

        // Then nothing: closed once a whole max lifetime has passed in silence, not before.
        time.advanceTimeBy(Duration.ofMillis(900));
        assertThat(connection.isDisposed()).isFalse();
        time.advanceTimeBy(Duration.ofMillis(100));
        assertThat(connection.isDisposed()).isTrue();
        StepVerifier.create(watch.onClose()).verifyComplete();
    }

    @Test
    void onlyTheSourceConnectionIsWatched() {
        TestConnection connection = new TestConnection();

        assertThat(watch.apply(DuplexConnectionInterceptor.Type.CLIENT, connection)).isSameAs(connection);
        time.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(connection.isDisposed()).isFalse();
    }

    @Test
    void aConnectionClosedElsewhereStopsTheWatch() {
        TestConnection connection = new TestConnection();
        watch.apply(DuplexConnectionInterceptor.Type.SOURCE, connection).receive().subscribe(ByteBuf::release);

        connection.dispose();
        StepVerifier.create(watch.onClose()).verifyComplete();
        int before = connection.looked.get();
        time.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(connection.looked.get() - before).as("one check found it closed, then no more checks").isEqualTo(1);
    }

    @Test
    void anAnswerAwaitedForTheMaxLifetimeClosesTheConnectionThoughKeepalivesAreAnswered() {
        TestConnection connection = new TestConnection();
        watch.apply(DuplexConnectionInterceptor.Type.SOURCE, connection).receive().subscribe(ByteBuf::release);

        watch.awaiting();
        // Keepalive answers every 100 ms: never silent, but the awaited answer does not come.
        for (int i = 0; i < 9; i++) {
            time.advanceTimeBy(Duration.ofMillis(100));
            connection.deliver();
        }
        assertThat(connection.isDisposed()).as("900 ms: still within the max lifetime").isFalse();
        time.advanceTimeBy(Duration.ofMillis(100));
        connection.deliver();
        assertThat(connection.isDisposed()).as("a whole max lifetime unanswered").isTrue();
    }

    @Test
    void anAnswerThatCameStopsTheDeadline() {
        TestConnection connection = new TestConnection();
        watch.apply(DuplexConnectionInterceptor.Type.SOURCE, connection).receive().subscribe(ByteBuf::release);

        watch.awaiting();
        time.advanceTimeBy(Duration.ofMillis(500));
        connection.deliver();
        watch.answered();
        for (int i = 0; i < 30; i++) {
            time.advanceTimeBy(Duration.ofMillis(100));
            connection.deliver();
        }
        assertThat(connection.isDisposed()).isFalse();
    }
}
