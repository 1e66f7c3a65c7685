package dev.agentcore.bench.jmh;

import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleTransition;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.bench.WireUpdates;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The wire form of a LifecycleUpdate (protobuf), both ways: the work the transport's codec does per update. */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class CodecBenchmark {

    private final LifecycleUpdate update = LifecycleUpdate.replay(new LifecycleTransition(ChainId.newIncarnation(), 2,
            LifecycleState.READY, Instant.parse("2026-11-27T20:00:00.123456789Z")), Instant.parse("2026-11-27T20:00:00.123456789Z"));
    private final byte[] encoded = WireUpdates.encode(update);

    @Benchmark
    public byte[] encodeUpdate() {
        return WireUpdates.encode(update);
    }

    @Benchmark
    public LifecycleUpdate decodeUpdate() {
        return WireUpdates.decode(ByteBuffer.wrap(encoded));
    }
}
