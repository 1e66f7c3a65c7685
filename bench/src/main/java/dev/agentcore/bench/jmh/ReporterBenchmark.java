package dev.agentcore.bench.jmh;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import java.time.Clock;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.Disposable;
import reactor.core.publisher.Sinks;

/**
 * The reporter's cost per replayed and per live transition, everything on the benchmark thread
 * (an {@link ImmediateSession} acknowledges at once). Scores are per transition.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ReporterBenchmark {

    /** A reporter running over a sessions sink that the benchmark drives by hand. */
    abstract static class Running {
        Lifecycle lifecycle;
        Sinks.Many<AgentSession> sessions;
        Disposable reporting;
        long acknowledged;

        void start() {
            lifecycle = Lifecycle.create(Clock.systemUTC());
            sessions = Sinks.many().unicast().onBackpressureBuffer();
            reporting = LifecycleReporter.builder(lifecycle).build().report(sessions.asFlux()).subscribe(event -> {
                if (event instanceof ReporterEvent.UpdateAcknowledged) {
                    acknowledged++;
                }
            });
        }

        void stop(long expectedAcks) {
            reporting.dispose();
            if (acknowledged < expectedAcks) {
                // Everything is synchronous here; a shortfall means the benchmark measured nothing.
                throw new IllegalStateException("expected at least " + expectedAcks + " acks, saw " + acknowledged);
            }
        }
    }

    /** An agent at READY (2 transitions after CREATED) or at OFF (4), switching rows on every invocation. */
    @State(Scope.Thread)
    public static class Replaying extends Running {
        final AgentId[] rows = {AgentId.of("row-a"), AgentId.of("row-b")};
        int next;
        long switches;

        void startAt(LifecycleState... walk) {
            start();
            for (LifecycleState state : walk) {
                lifecycle.transitionTo(state);
            }
        }

        void switchRow() {
            sessions.tryEmitNext(new ImmediateSession(rows[next]));
            next ^= 1;
            switches++;
        }
    }

    @State(Scope.Thread)
    public static class ReadyAgent extends Replaying {
        @Setup(Level.Iteration)
        public void setUp() {
            startAt(LifecycleState.STARTING, LifecycleState.READY);
        }

        @TearDown(Level.Iteration)
        public void tearDown() {
            stop(switches * 2);
        }
    }

    @State(Scope.Thread)
    public static class OffAgent extends Replaying {
        @Setup(Level.Iteration)
        public void setUp() {
            startAt(LifecycleState.STARTING, LifecycleState.READY, LifecycleState.SHUTTING_DOWN, LifecycleState.OFF);
        }

        @TearDown(Level.Iteration)
        public void tearDown() {
            stop(switches * 4);
        }
    }

    /** A connected agent whose lifecycle moves while the benchmark runs. */
    @State(Scope.Thread)
    public static class LiveAgent extends Running {
        long generations;

        // Per iteration: the lifecycle's hot Flux keeps every transition it ever emitted.
        @Setup(Level.Iteration)
        public void setUp() {
            start();
            sessions.tryEmitNext(new ImmediateSession(AgentId.of("row-a")));
        }

        @TearDown(Level.Iteration)
        public void tearDown() {
            stop(generations * 4);
        }
    }

    /** A new row: the 2 transitions of a READY agent are replayed onto it. Score per replayed transition. */
    @Benchmark
    @OperationsPerInvocation(2)
    public long replayTwoTransitions(ReadyAgent agent) {
        agent.switchRow();
        return agent.acknowledged;
    }

    /** A new row: the 4 transitions of an agent at OFF are replayed onto it. Score per replayed transition. */
    @Benchmark
    @OperationsPerInvocation(4)
    public long replayFourTransitions(OffAgent agent) {
        agent.switchRow();
        return agent.acknowledged;
    }

    /**
     * A new generation walked live to OFF: STARTING, READY, SHUTTING_DOWN, OFF, each sent and
     * acknowledged. Score per live transition (the reinitialize is included, not counted).
     */
    @Benchmark
    @OperationsPerInvocation(4)
    public long liveTransitions(LiveAgent agent) {
        agent.lifecycle.reinitialize();
        agent.lifecycle.transitionTo(LifecycleState.STARTING);
        agent.lifecycle.transitionTo(LifecycleState.READY);
        agent.lifecycle.transitionTo(LifecycleState.SHUTTING_DOWN);
        agent.lifecycle.transitionTo(LifecycleState.OFF);
        agent.generations++;
        return agent.acknowledged;
    }
}
