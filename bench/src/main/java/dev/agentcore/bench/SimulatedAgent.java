package dev.agentcore.bench;

import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleTransition;
import dev.agentcore.core.agent.AgentChangePolicy;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.cli.NaiveReporter;
import dev.agentcore.transport.AgentConnector;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * One agent of the storm, with the library's own connector and reporter (or the naive reporter,
 * for the baseline): connects, walks STARTING then READY on its first session, and after that
 * moves only when the harness ticks it.
 *
 * <p>A tick is one lifecycle update: from READY it reinitializes and goes to STARTING (a new
 * generation; its CREATED is not sent), from STARTING it goes to READY. Ticks of one agent are
 * serialized by a monitor; the update-to-ack latency runs from just before the transition is
 * recorded to the reporter's acknowledgement event.
 */
final class SimulatedAgent {

    /** Latencies and counts shared by every agent of a run. */
    static final class Meters {
        final ConcurrentHistogram ackLatencyNanos = new ConcurrentHistogram(3);
        final LongAdder acked = new LongAdder();

        void reset() {
            ackLatencyNanos.reset();
            acked.reset();
        }
    }

    final String workspace;
    private final Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
    private final AgentConnector connector;
    private final boolean naive;
    private final Meters meters;
    private final Scheduler scheduler;
    /** Send times by (generation, seq) of updates not yet acknowledged. */
    private final Map<Long, Long> pending = new ConcurrentHashMap<>();
    private final AtomicBoolean walked = new AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicInteger sessions = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean saturating;
    private Disposable reporting;
    private Disposable ticking;

    SimulatedAgent(String workspace, AgentConnector connector, boolean naive, Meters meters, Scheduler scheduler) {
        this.workspace = workspace;
        this.connector = connector;
        this.naive = naive;
        this.meters = meters;
        this.scheduler = scheduler;
    }

    void start() {
        if (naive) {
            reporting = NaiveReporter.report(lifecycle, connector.sessions().doOnNext(session -> {
                        sessions.incrementAndGet();
                        walkOnce();
                    }))
                    .subscribe();
        } else {
            LifecycleReporter reporter = LifecycleReporter.builder(lifecycle).onAgentChange(AgentChangePolicy.REPLAY).build();
            reporting = reporter.report(connector.sessions()).subscribe(this::on);
        }
    }

    private void on(ReporterEvent event) {
        if (event instanceof ReporterEvent.SessionStarted) {
            sessions.incrementAndGet();
            walkOnce();
        } else if (event instanceof ReporterEvent.UpdateAcknowledged acknowledged) {
            LifecycleAck ack = acknowledged.ack();
            Long sentAt = pending.remove(key(ack.chain().generation(), ack.seq()));
            if (sentAt != null) {
                meters.ackLatencyNanos.recordValue(System.nanoTime() - sentAt);
                meters.acked.increment();
            }
            if (saturating) {
                LifecycleTransition current = lifecycle.current();
                if (current.chain().equals(ack.chain()) && current.seq() == ack.seq()) {
                    tick();
                }
            }
        }
    }

    /** The startup walk of the first session, done off the reporter's thread. */
    private void walkOnce() {
        if (walked.compareAndSet(false, true)) {
            scheduler.schedule(() -> {
                synchronized (this) {
                    lifecycle.transitionTo(LifecycleState.STARTING);
                    lifecycle.transitionTo(LifecycleState.READY);
                }
            });
        }
    }

    /** One more update: READY -> (reinitialize) STARTING, or STARTING -> READY. */
    synchronized void tick() {
        LifecycleTransition current = lifecycle.current();
        if (current.state() == LifecycleState.READY) {
            // The key is known before the update exists, so an ack can never beat its send time.
            pending.put(key(current.chain().generation() + 1, 1), System.nanoTime());
            lifecycle.reinitialize();
            lifecycle.transitionTo(LifecycleState.STARTING);
        } else if (current.state() == LifecycleState.STARTING) {
            pending.put(key(current.chain().generation(), current.seq() + 1), System.nanoTime());
            lifecycle.transitionTo(LifecycleState.READY);
        }
    }

    /** Ticks at a fixed period, starting after {@code phase}. */
    void tickEvery(Duration period, Duration phase) {
        ticking = Flux.interval(phase, period, scheduler).subscribe(ignored -> tick());
    }

    /** Ticks again the moment the latest update is acknowledged: a closed loop with one update in flight. */
    void saturate() {
        saturating = true;
        tick();
    }

    /** Stops ticking; an update in flight still completes. */
    void stopTicking() {
        saturating = false;
        if (ticking != null) {
            ticking.dispose();
        }
    }

    /** Whether this agent's own lifecycle is at READY. */
    boolean isReady() {
        return lifecycle.current().state() == LifecycleState.READY;
    }

    /** Sessions established so far. */
    int sessions() {
        return sessions.get();
    }

    void stop() {
        stopTicking();
        if (reporting != null) {
            reporting.dispose();
        }
    }

    private static long key(long generation, long seq) {
        return generation * 16 + seq;
    }
}
