package dev.agentcore.transport;

import io.netty.buffer.ByteBuf;
import io.rsocket.DuplexConnection;
import io.rsocket.frame.FrameHeaderCodec;
import io.rsocket.frame.FrameType;
import io.rsocket.frame.KeepAliveFrameCodec;
import io.rsocket.plugins.DuplexConnectionInterceptor;

/**
 * The control plane's side of keepalive as the RSocket protocol has it: the client sends a
 * KEEPALIVE with the respond flag every interval and the server answers each. rsocket-java's
 * server also sends its own every interval, which doubles the keepalive traffic of every
 * connection for nothing: its timeout already counts the client's keepalives, and the client's
 * counts the answers. This interceptor drops those server-initiated frames before they are
 * queued; the answers, and every other frame, pass untouched.
 */
final class AnswerOnlyKeepAlive implements DuplexConnectionInterceptor {

    static final AnswerOnlyKeepAlive INSTANCE = new AnswerOnlyKeepAlive();

    private AnswerOnlyKeepAlive() {
    }

    @Override
    public DuplexConnection apply(Type type, DuplexConnection connection) {
        return type == Type.SOURCE ? new AnswerOnly(connection) : connection;
    }

    /** A KEEPALIVE this side asks to be answered: only the server's own periodic ones, on this side. */
    static boolean isServerInitiatedKeepAlive(int streamId, ByteBuf frame) {
        return streamId == 0 && FrameHeaderCodec.frameType(frame) == FrameType.KEEPALIVE
                && KeepAliveFrameCodec.respondFlag(frame);
    }

    private static final class AnswerOnly extends ForwardingDuplexConnection {
        AnswerOnly(DuplexConnection delegate) {
            super(delegate);
        }

        @Override
        public void sendFrame(int streamId, ByteBuf frame) {
            if (isServerInitiatedKeepAlive(streamId, frame)) {
                frame.release();
                return;
            }
            delegate.sendFrame(streamId, frame);
        }
    }
}
