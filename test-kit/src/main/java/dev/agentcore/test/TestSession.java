package dev.agentcore.test;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.Script;
import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.agent.ClockOffset;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A session bound to one row of a {@link TestControlPlane}, with the faults a real connection
 * has: it can be cut, fail on the n-th update (before or after the control plane applied it),
 * refuse the n-th update with an error code, hold updates until released, or acknowledge late.
 *
 * <p>Configure it before handing it to a reporter; the faults count updates from 0 in the order
 * this session received them. Delays run on Reactor's parallel scheduler, so under
 * {@code StepVerifier.withVirtualTime} they take virtual time.
 */
public final class TestSession implements AgentSession {

    private volatile Manifest manifest;
    private final TestControlPlane controlPlane;
    private final Sinks.Empty<Void> closed = Sinks.empty();
    private final Sinks.Empty<Void> gate = Sinks.empty();
    private final AtomicInteger received = new AtomicInteger();
    /** Every update received, in order; guarded by itself. */
    private final List<LifecycleUpdate> updates = new ArrayList<>();
    private volatile boolean held;
    private volatile int failAt = -1;
    private volatile boolean applyBeforeFailing;
    private volatile int refuseAt = -1;
    private volatile ErrorCode refusal;
    private volatile Duration ackDelay = Duration.ZERO;
    private volatile ClockOffset clockOffset = ClockOffset.UNKNOWN;

    TestSession(AgentId agentId, String workspace, TestControlPlane controlPlane) {
        this.manifest = Manifest.of(agentId, workspace, "test-agent");
        this.controlPlane = controlPlane;
    }

    /** Makes the {@code index}-th update cut the connection, after the control plane applied it if {@code appliedFirst}. */
    public TestSession failAt(int index, boolean appliedFirst) {
        this.failAt = index;
        this.applyBeforeFailing = appliedFirst;
        return this;
    }

    /** Makes the control plane refuse the {@code index}-th update with {@code code}, without applying it: the channel ends with that error. */
    public TestSession refuseAt(int index, ErrorCode code) {
        this.refusal = Objects.requireNonNull(code, "code");
        this.refuseAt = index;
        return this;
    }

    /** Holds every update until {@link #release()}: nothing reaches the control plane meanwhile. */
    public TestSession hold() {
        this.held = true;
        return this;
    }

    /** Lets held updates through, in order. */
    public void release() {
        Sinks.EmitResult result = gate.tryEmitEmpty();
        if (result.isFailure() && result != Sinks.EmitResult.FAIL_TERMINATED) {
            throw new IllegalStateException("could not release the held updates: " + result);
        }
    }

    /** Delivers each acknowledgement {@code delay} after the control plane applied the update (a slow link back). */
    public TestSession acknowledgeAfter(Duration delay) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay: must not be negative, was " + delay);
        }
        this.ackDelay = delay;
        return this;
    }

    /**
     * Makes this session's manifest carry these scripts (a session's manifest has none unless
     * given), as a build whose workspace runs them would: what {@link
     * dev.agentcore.core.agent.AgentChangePolicy#AUTO} compares.
     */
    public TestSession withScripts(List<Script> startupScripts, List<Script> shutdownScripts) {
        Manifest bare = manifest;
        this.manifest = new Manifest(bare.agentId(), bare.workspaceId(), bare.agentName(), startupScripts, shutdownScripts);
        return this;
    }

    /** Makes this session report {@code offset} as its measured clock offset. */
    public TestSession withClockOffset(ClockOffset offset) {
        this.clockOffset = Objects.requireNonNull(offset, "offset");
        return this;
    }

    /** Drops the connection, as a network cut or a suspended VM would; a second cut does nothing. */
    public void cut() {
        Sinks.EmitResult result = closed.tryEmitEmpty();
        if (result.isFailure() && result != Sinks.EmitResult.FAIL_TERMINATED) {
            throw new IllegalStateException("could not cut the session: " + result);
        }
    }

    /** The row this session is bound to. */
    public AgentId agentId() {
        return manifest.agentId();
    }

    /** Every update this session received, in order, applied or not. */
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
    public ClockOffset clockOffset() {
        return clockOffset;
    }

    @Override
    public Flux<LifecycleAck> lifecycleChannel(Publisher<LifecycleUpdate> outbound) {
        Duration delay = ackDelay;
        Mono<Void> open = held ? gate.asMono() : Mono.empty();
        Flux<LifecycleAck> acks = Flux.from(outbound).concatMap(update -> open.then(Mono.defer(() -> deliver(update))));
        if (!delay.isZero()) {
            acks = acks.flatMapSequential(ack -> Mono.just(ack).delayElement(delay));
        }
        return acks.takeUntilOther(closed.asMono());
    }

    private Mono<LifecycleAck> deliver(LifecycleUpdate update) {
        int index = received.getAndIncrement();
        synchronized (updates) {
            updates.add(update);
        }
        if (index == refuseAt) {
            return Mono.error(new AgentcoreException(refusal, "refused by the test (update " + index + ")"));
        }
        if (index == failAt) {
            Mono<LifecycleAck> applied = applyBeforeFailing ? controlPlane.apply(agentId(), update) : Mono.empty();
            return applied.then(Mono.fromRunnable(this::cut))
                    .then(Mono.error(new IOException("connection reset (injected at update " + index + ")")));
        }
        return controlPlane.apply(agentId(), update);
    }

    @Override
    public Mono<Void> onClose() {
        return closed.asMono();
    }

    @Override
    public String toString() {
        return "TestSession[" + agentId() + "]";
    }
}
