package dev.agentcore.transport;

import dev.agentcore.core.LifecycleUpdate;
import java.nio.ByteBuffer;

/**
 * Benchmarks only: the transport's package-private wire codec, reached from the bench module
 * (same package name, so the codec stays out of the transport's public API).
 */
public final class BenchCodec {

    private BenchCodec() {
    }

    /** A LifecycleUpdate as its protobuf bytes, exactly as an agent sends it. */
    public static byte[] encodeUpdate(LifecycleUpdate update) {
        return ProtoCodec.encodeUpdate(update);
    }

    /** Parses what {@link #encodeUpdate} wrote, with the control plane's checks. */
    public static LifecycleUpdate decodeUpdate(ByteBuffer data) {
        return ProtoCodec.decodeUpdate(data);
    }
}
