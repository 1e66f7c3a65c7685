// The agent side's library alone, in one JVM, without a network: N lifecycles, each with its own
// LifecycleReporter on a session that acknowledges at once; two threads tick them in turn (READY ->
// reinitialize + STARTING, STARTING -> READY), as the storm's agents do. Prints, per update, the
// process's CPU, the two ticking threads' CPU, and the rest (GC, G1's refinement, JIT). With 50,000
// agents each is updated a few times a second, so what a tick touches has gone cold in between, as
// in the storm; with 1,000 it stays hot. Add any third argument to also keep the storm's meters.
//   java -Xmx6g -XX:+UseG1GC -cp bench/target/agentcore-bench.jar InProcessFleet.java 50000 5
import dev.agentcore.core.*;
import dev.agentcore.core.agent.*;
import org.reactivestreams.Publisher;
import reactor.core.publisher.*;
import java.lang.management.*;
import java.time.*;
import java.util.*;
import java.util.concurrent.atomic.*;

public class InProcessFleet {
    static final class Immediate implements AgentSession {
        final Manifest manifest;
        Immediate(AgentId id) { manifest = Manifest.of(id, "bench", "bench-agent"); }
        public Manifest manifest() { return manifest; }
        public Flux<LifecycleAck> lifecycleChannel(Publisher<LifecycleUpdate> updates) {
            return Flux.from(updates).map(u -> new LifecycleAck(u.chain(), u.seq(), LifecycleAck.Outcome.APPLIED, u.state()));
        }
        public Mono<Void> onClose() { return Mono.never(); }
    }
    public static void main(String[] a) throws Exception {
        int n = Integer.parseInt(a[0]); int secs = Integer.parseInt(a[1]);
        List<Lifecycle> ls = new ArrayList<>();
        LongAdder acked = new LongAdder();
        org.HdrHistogram.ConcurrentHistogram hist = new org.HdrHistogram.ConcurrentHistogram(3);
        List<Map<Long,Long>> pend = new ArrayList<>();
        boolean withMeters = a.length > 2;
        for (int i = 0; i < n; i++) {
            Lifecycle l = Lifecycle.create(Clock.systemUTC());
            LifecycleReporter r = LifecycleReporter.builder(l).build();
            Map<Long,Long> pending = new java.util.concurrent.ConcurrentHashMap<>(); pend.add(pending);
            r.report(Flux.<AgentSession>just(new Immediate(AgentId.random())).concatWith(Flux.never()))
                .subscribe(e -> { if (e instanceof ReporterEvent.UpdateAcknowledged ack) { acked.increment();
                   if (withMeters) { Long at = pending.remove(ack.ack().chain().generation() * 16 + ack.ack().seq()); if (at != null) hist.recordValue(System.nanoTime() - at); } } });
            l.transitionTo(LifecycleState.STARTING); l.transitionTo(LifecycleState.READY);
            ls.add(l);
        }
        ThreadMXBean tm = ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        AtomicBoolean run = new AtomicBoolean(true);
        long[] tids = new long[2];
        Thread[] ts = new Thread[2];
        for (int t = 0; t < 2; t++) {
            int off = t;
            ts[t] = new Thread(() -> { while (run.get()) { for (int i = off; i < n; i += 2) { Lifecycle l = ls.get(i);
                Map<Long,Long> pending = pend.get(i); LifecycleTransition c = l.current();
                if (withMeters) pending.put(c.state() == LifecycleState.READY ? (c.chain().generation() + 1) * 16 + 1 : c.chain().generation() * 16 + c.seq() + 1, System.nanoTime());
                if (c.state() == LifecycleState.READY) { l.reinitialize(); l.transitionTo(LifecycleState.STARTING); } else l.transitionTo(LifecycleState.READY); } } });
            ts[t].start(); tids[t] = ts[t].getId();
        }
        for (int round = 0; round < 4; round++) {
            Thread.sleep(1000L * secs);
            long p0 = os.getProcessCpuTime(), t0 = tm.getThreadCpuTime(tids[0]) + tm.getThreadCpuTime(tids[1]), a0 = acked.sum(), w0 = System.nanoTime();
            Thread.sleep(1000L * secs);
            long p1 = os.getProcessCpuTime(), t1 = tm.getThreadCpuTime(tids[0]) + tm.getThreadCpuTime(tids[1]), a1 = acked.sum(), w1 = System.nanoTime();
            double ups = (a1 - a0);
            System.out.printf("round %d: %.0f updates/s, per update: process %.2f us, workers %.2f us, other threads %.2f us%n", round,
                ups * 1e9 / (w1 - w0), (p1 - p0) / 1e3 / ups, (t1 - t0) / 1e3 / ups, ((p1 - p0) - (t1 - t0)) / 1e3 / ups);
        }
        run.set(false); System.exit(0);
    }
}
