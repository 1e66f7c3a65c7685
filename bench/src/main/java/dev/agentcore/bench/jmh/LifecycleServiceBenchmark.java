package dev.agentcore.bench.jmh;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.LifecycleService;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code LifecycleService.apply} on the in-memory store: read, check, compare-and-set, ack. Each
 * invocation applies a new generation's STARTING and READY; the score is per applied update.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class LifecycleServiceBenchmark {

    private LifecycleService service;
    private AgentId agentId;
    private ChainId chain;
    private final Clock clock = Clock.systemUTC();

    @Setup(Level.Iteration)
    public void setUp() {
        service = LifecycleService.builder(new InMemoryAgentStore()).clock(Clock.systemUTC()).build();
        agentId = service.startBuild("bench").block(Duration.ofSeconds(5)).agentId();
        chain = ChainId.newIncarnation();
    }

    @Benchmark
    @OperationsPerInvocation(2)
    public LifecycleAck applyStartingThenReady() {
        chain = chain.nextGeneration();
        // The in-memory store answers on the calling thread: block() returns at once.
        service.apply(agentId, new LifecycleUpdate(chain, 1, LifecycleState.STARTING, clock.instant(), false, null)).block();
        LifecycleAck ack = service.apply(agentId, new LifecycleUpdate(chain, 2, LifecycleState.READY, clock.instant(), false, null)).block();
        if (ack.outcome() != LifecycleAck.Outcome.APPLIED) {
            throw new IllegalStateException("not applied: " + ack);
        }
        return ack;
    }
}
