package dev.agentcore.cli;

import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.agent.Lifecycle;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The bug agentcore exists to fix, on purpose: remembers per process the last seq it sent and
 * never sends it again, whatever row the new session is bound to. For the demo and the
 * benchmarks' correctness baseline only.
 */
public final class NaiveReporter {

    private NaiveReporter() {
    }

    public static Flux<LifecycleAck> report(Lifecycle lifecycle, Flux<AgentSession> sessions) {
        AtomicLong reported = new AtomicLong();
        return sessions.switchMap(session -> session.lifecycleChannel(lifecycle.transitions()
                        .filter(transition -> transition.seq() > reported.get())
                        .doOnNext(transition -> reported.set(transition.seq()))
                        .map(transition -> LifecycleUpdate.live(transition, transition.changedAt())))
                .onErrorResume(error -> Mono.empty()));
    }
}
