package dev.agentcore.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;

/**
 * A fault-injecting TCP proxy on loopback, for tests: forwards each connection to a target port
 * and, on request, cuts connections at a random byte offset (inside frames too), drops one
 * direction while keeping the connection open (half-open), refuses new connections, or cuts
 * every connection at once. Seeded: the same seed cuts at the same offsets.
 */
public final class FaultProxy implements AutoCloseable {

    /** Which way bytes travel. */
    public enum Direction { TO_SERVER, TO_CLIENT }

    private final int targetPort;
    private final Random random;
    private final DisposableServer server;
    private final Set<Sinks.Empty<Void>> live = ConcurrentHashMap.newKeySet();
    private final AtomicLong cuts = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong established = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private volatile double cutProbability;
    private volatile int maxCutOffset;
    private volatile boolean refusing;
    private volatile Direction dropping;
    private volatile long chosenCutOffset = -1;
    private volatile Duration delay = Duration.ZERO;

    private FaultProxy(int targetPort, long seed) {
        this.targetPort = targetPort;
        this.random = new Random(seed);
        this.server = TcpServer.create().host("127.0.0.1").port(0)
                .handle((in, out) -> {
                    if (refusing) {
                        refused.incrementAndGet();
                        return Mono.empty();
                    }
                    connections.incrementAndGet();
                    long cutAt = nextCutOffset();
                    AtomicLong seen = new AtomicLong();
                    Sinks.Empty<Void> cut = Sinks.empty();
                    live.add(cut);
                    return TcpClient.create().host("127.0.0.1").port(this.targetPort).connect()
                            .flatMap(upstream -> {
                                established.incrementAndGet();
                                Flux<ByteBuf> toServer = forward(in.receive(), Direction.TO_SERVER, cutAt, seen, cut);
                                Flux<ByteBuf> toClient = forward(upstream.inbound().receive(),
                                        Direction.TO_CLIENT, cutAt, seen, cut);
                                Mono<Void> both = Mono.when(upstream.outbound().send(toServer).then(),
                                        out.send(toClient).then());
                                return Mono.firstWithSignal(both, cut.asMono()).doFinally(signal -> upstream.dispose());
                            })
                            .onErrorResume(error -> Mono.empty())
                            .doFinally(signal -> live.remove(cut));
                })
                .bindNow(Duration.ofSeconds(10));
    }

    /** Starts a proxy to {@code 127.0.0.1:targetPort}. */
    public static FaultProxy start(int targetPort, long seed) {
        return new FaultProxy(targetPort, seed);
    }

    private synchronized long nextCutOffset() {
        if (chosenCutOffset >= 0) {
            return chosenCutOffset;
        }
        return random.nextDouble() < cutProbability ? random.nextInt(Math.max(1, maxCutOffset)) : Long.MAX_VALUE;
    }

    /**
     * Forwards, drops, delays or cuts each chunk. Each chunk is copied as it arrives (reactor-netty
     * releases what it received) and forwarded as a fresh unpooled buffer that only the sending
     * side releases: this proxy releases nothing itself, so it can neither leak nor double-release.
     */
    private Flux<ByteBuf> forward(Flux<ByteBuf> received, Direction direction, long cutAt, AtomicLong seen,
                                  Sinks.Empty<Void> cut) {
        return received.map(ByteBufUtil::getBytes).takeUntilOther(cut.asMono()).concatMap(chunk -> {
            if (dropping == direction) {
                return Mono.empty();
            }
            long before = seen.getAndAdd(chunk.length);
            if (before + chunk.length > cutAt) {
                int keep = (int) Math.max(0, cutAt - before);
                cuts.incrementAndGet();
                cut.tryEmitEmpty();
                return keep > 0 ? Mono.fromSupplier(() -> Unpooled.wrappedBuffer(chunk, 0, keep)) : Mono.empty();
            }
            Duration wait = delay;
            Mono<ByteBuf> forwarded = Mono.fromSupplier(() -> Unpooled.wrappedBuffer(chunk));
            return wait.isZero() ? forwarded : Mono.delay(wait).then(forwarded);
        });
    }

    /** The port agents connect to. */
    public int port() {
        return server.port();
    }

    /** Each new connection is cut with this probability at a random offset below {@code maxOffset} bytes. */
    public void cutRandomly(double probability, int maxOffset) {
        this.cutProbability = probability;
        this.maxCutOffset = maxOffset;
    }

    /** Each new connection is cut after exactly {@code offset} bytes (both ways together); -1 stops it. */
    public void cutEachAt(long offset) {
        this.chosenCutOffset = offset;
    }

    /** Holds every chunk of bytes this long before forwarding it (in order); zero for none. */
    public void delay(Duration delay) {
        this.delay = delay;
    }

    /** Cuts every open connection now. */
    public void cutAll() {
        live.forEach(cut -> {
            cuts.incrementAndGet();
            cut.tryEmitEmpty();
        });
    }

    /** Closes new connections at once while {@code refuse} is true. */
    public void refuseNewConnections(boolean refuse) {
        this.refusing = refuse;
    }

    /** Silently drops the bytes going one way (null: none), keeping connections open: half-open. */
    public void drop(Direction direction) {
        this.dropping = direction;
    }

    public long cuts() {
        return cuts.get();
    }

    /** Connections accepted from clients, whether or not they reached the target. */
    public long connections() {
        return connections.get();
    }

    /** Connections that reached the target: not those accepted while it was down (a client's retries then). */
    public long established() {
        return established.get();
    }

    public long refused() {
        return refused.get();
    }

    @Override
    public void close() {
        cutAll();
        server.disposeNow(Duration.ofSeconds(10));
    }
}
