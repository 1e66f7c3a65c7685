package dev.agentcore.core.testing;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.agent.ClockOffset;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * An in-memory session bound to one row of a {@link TestControlPlane}, with the faults a real
 * connection has: it can be cut, fail on the n-th update (with or without the control plane
 * having applied it first), or hold updates until released.
 */
public final class TestSession implements AgentSession {

    private final Manifest manifest;
    private final TestControlPlane controlPlane;
    private final Sinks.Empty<Void> closed = Sinks.empty();
    private final Sinks.Empty<Void> gate = Sinks.empty();
    private final AtomicInteger received = new AtomicInteger();
    private final List<LifecycleUpdate> updates = Collections.synchronizedList(new ArrayList<>());
    private volatile int failAt = -1;
    private volatile boolean applyBeforeFailing;
    private volatile ClockOffset clockOffset = ClockOffset.UNKNOWN;

    TestSession(AgentId agent, String workspace, TestControlPlane controlPlane, boolean held) {
        this.manifest = Manifest.of(agent, workspace, "test-agent");
        this.controlPlane = controlPlane;
        if (!held) {
            gate.tryEmitEmpty();
        }
    }

    /** Makes the {@code index}-th update (from 0) fail the connection, after applying it if asked. */
    public TestSession failAt(int index, boolean appliedBeforeFailure) {
        this.failAt = index;
        this.applyBeforeFailing = appliedBeforeFailure;
        return this;
    }

    /** Makes this session report {@code offset} as its measured clock offset. */
    public TestSession withClockOffset(ClockOffset offset) {
        this.clockOffset = offset;
        return this;
    }

    @Override
    public ClockOffset clockOffset() {
        return clockOffset;
    }

    /** Lets held updates through. */
    public void release() {
        gate.tryEmitEmpty();
    }

    /** Drops the connection, as a network cut or a suspended VM would. */
    public void cut() {
        closed.tryEmitEmpty();
    }

    /** The row this session is bound to. */
    public dev.agentcore.core.AgentId agent() {
        return manifest.agentId();
    }

    /** Every update this session received, in order. */
    public List<LifecycleUpdate> updates() {
        synchronized (updates) {
            return List.copyOf(updates);
        }
    }

    @Override
    public Manifest manifest() {
        return manifest;
    }

    @Override
    public Flux<LifecycleAck> lifecycleChannel(Publisher<LifecycleUpdate> outbound) {
        return Flux.from(outbound)
                .concatMap(update -> gate.asMono().then(Mono.defer(() -> deliver(update))))
                .takeUntilOther(closed.asMono());
    }

    private Mono<LifecycleAck> deliver(LifecycleUpdate update) {
        int index = received.getAndIncrement();
        updates.add(update);
        if (index == failAt) {
            Mono<LifecycleAck> applied = applyBeforeFailing
                    ? controlPlane.apply(manifest.agentId(), update)
                    : Mono.empty();
            return applied.then(Mono.fromRunnable(this::cut))
                    .then(Mono.error(new IOException("connection reset (injected at update " + index + ")")));
        }
        return controlPlane.apply(manifest.agentId(), update);
    }

    @Override
    public Mono<Void> onClose() {
        return closed.asMono();
    }
}
