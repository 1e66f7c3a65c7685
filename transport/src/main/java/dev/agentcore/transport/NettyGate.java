package dev.agentcore.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.rsocket.exceptions.ConnectionErrorException;
import io.rsocket.exceptions.RejectedSetupException;
import io.rsocket.frame.ErrorFrameCodec;
import io.rsocket.frame.FrameLengthCodec;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.ChannelPipelineConfigurer;
import reactor.netty.ConnectionObserver;

/**
 * The one place that touches Netty channels for {@link ConnectionGate}: each accepted channel of
 * one listener is admitted as it is initialised (before a byte is read), released when it closes,
 * and found again by its remote address when rsocket-java starts its connection.
 *
 * <p>On TCP a refusal is sent as an RSocket ERROR frame on stream 0 (REJECTED_SETUP before SETUP,
 * CONNECTION_ERROR after), so any RSocket client reads the code and the reason; a WebSocket
 * connection is closed without one, since it may not have finished its HTTP upgrade.
 */
final class NettyGate implements ChannelPipelineConfigurer {

    private static final Logger log = LoggerFactory.getLogger(NettyGate.class);

    /** How long a refused connection may take to read its refusal and close. */
    static final Duration LINGER = Duration.ofSeconds(1);
    private static final Discard DISCARD = new Discard();

    private final ConnectionGate gate;
    private final String listener;
    private final boolean rsocketFraming;
    private final Map<SocketAddress, Admission> admitted = new ConcurrentHashMap<>();
    /** One scheduler per event loop, shared by its connections (a loop outlives them; never disposed). */
    private final Map<Executor, Scheduler> homes = new ConcurrentHashMap<>();

    /**
     * An admitted connection: its place in the gate, and its channel's event loop as a scheduler
     * (its {@code home}), where signals that other connections' work produces for it are delivered.
     */
    record Admission(ConnectionGate.Ticket ticket, Scheduler home) {
    }

    NettyGate(ConnectionGate gate, String listener, boolean rsocketFraming) {
        this.gate = gate;
        this.listener = listener;
        this.rsocketFraming = rsocketFraming;
    }

    @Override
    public void onChannelInit(ConnectionObserver observer, Channel channel, SocketAddress remoteAddress) {
        SocketAddress remote = channel.remoteAddress() != null ? channel.remoteAddress() : remoteAddress;
        InetAddress source = remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
        ConnectionGate.Ticket ticket = gate.open(source, (message, beforeSetup) -> close(channel, message, beforeSetup));
        if (ticket == null) {
            return;
        }
        Admission admission = new Admission(ticket, homes.computeIfAbsent(channel.eventLoop(), Schedulers::fromExecutor));
        admitted.put(remote, admission);
        channel.closeFuture().addListener(closed -> {
            admitted.remove(remote, admission);
            ticket.closed();
        });
    }

    /** The admission of the open connection from {@code remote}; null if the gate refused or ended it. */
    Admission admission(SocketAddress remote) {
        return admitted.get(remote);
    }

    private void close(Channel channel, String message, boolean beforeSetup) {
        log.debug("{} connection from {} closed: {}", listener, channel.remoteAddress(), message);
        if (!rsocketFraming || !(channel instanceof DuplexChannel duplex) || !channel.isActive()) {
            channel.close();
            return;
        }
        Runnable refuse = () -> {
            // From here on nothing the peer sends reaches rsocket-java. Closing with its bytes unread
            // would make the kernel answer with a reset, which can destroy our frame before the peer
            // reads it: so the frame goes out, then our half is shut, then the peer's bytes are
            // drained until it closes (or LINGER passes; at once when too many linger already).
            channel.pipeline().addFirst(DISCARD);
            ByteBuf error = ErrorFrameCodec.encode(channel.alloc(), 0, beforeSetup
                    ? new RejectedSetupException(message) : new ConnectionErrorException(message));
            channel.writeAndFlush(FrameLengthCodec.encode(channel.alloc(), error.readableBytes(), error))
                    .addListener(written -> {
                        if (!written.isSuccess() || !gate.tryLinger()) {
                            channel.close();
                            return;
                        }
                        channel.closeFuture().addListener(closed -> gate.lingerEnded());
                        duplex.shutdownOutput();
                        channel.eventLoop().schedule(() -> channel.close(), LINGER.toMillis(), TimeUnit.MILLISECONDS);
                    });
        };
        // On the event loop (a connection refused as it is accepted) this runs before rsocket-java
        // sees the connection.
        if (channel.eventLoop().inEventLoop()) {
            refuse.run();
        } else {
            channel.eventLoop().execute(refuse);
        }
    }

    /** Drops every inbound message of a connection being closed; the peer's EOF closes the channel. */
    @ChannelHandler.Sharable
    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext context, Object message) {
            ReferenceCountUtil.release(message);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            context.close();
        }
    }
}
