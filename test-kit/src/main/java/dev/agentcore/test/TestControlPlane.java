package dev.agentcore.test;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.LifecycleService;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * A control plane in the test's JVM: agentcore's own {@link LifecycleService} rules on an
 * in-memory store, recording every update it applied, so a test checks outcomes on rows.
 *
 * <p>Its rows, builds and refusals are the real control plane's; only the network is missing.
 * Agents reach it through a {@link #connector()}. The calls that return a row
 * ({@link #startBuild}, {@link #row}) wait for the in-memory store, which answers at once: they
 * are meant for a test's own thread, as {@code StepVerifier.verify} is.
 *
 * <pre>{@code
 * TestControlPlane controlPlane = TestControlPlane.create(clock);
 * AgentRow row = controlPlane.startBuild("my-workspace");
 * TestConnector connector = controlPlane.connector();
 * reporter.report(connector.sessions()).subscribe();
 * connector.connect(row);
 * }</pre>
 */
public final class TestControlPlane {

    /** How long a call waits for the in-memory store, which answers at once unless something is wrong. */
    private static final Duration STORE_ANSWER = Duration.ofSeconds(5);

    private final Clock clock;
    private final InMemoryAgentStore store = new InMemoryAgentStore();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final LifecycleService service;
    /** Updates acknowledged APPLIED, by row, in order; guarded by itself. */
    private final Map<AgentId, List<LifecycleUpdate>> applied = new LinkedHashMap<>();

    private TestControlPlane(Clock clock) {
        this.clock = clock;
        this.service = LifecycleService.builder(store).clock(clock).meterRegistry(meters).build();
    }

    /** A control plane with no workspaces yet, whose time is {@code clock}'s. */
    public static TestControlPlane create(Clock clock) {
        return new TestControlPlane(Objects.requireNonNull(clock, "clock"));
    }

    /** Starts a build of {@code workspace} (creating it if new): a new row at CREATED, which retires the previous one. */
    public AgentRow startBuild(String workspace) {
        return answered(service.startBuild(workspace), "startBuild(" + workspace + ")");
    }

    /** The row {@code agentId} as it is now. */
    public AgentRow row(AgentId agentId) {
        return answered(service.row(agentId), "row(" + agentId + ")");
    }

    /** The current (latest) row of {@code workspace}. */
    public AgentRow latestRow(String workspace) {
        return answered(store.latestRow(workspace), "latestRow(" + workspace + ")");
    }

    /** A new connection to this control plane, for one agent: the stand-in for the transport's connector. */
    public TestConnector connector() {
        return new TestConnector(this);
    }

    /** A session bound to {@code row}, not yet handed to anyone (see {@link TestConnector#connect(TestSession)}). */
    public TestSession session(AgentRow row) {
        Objects.requireNonNull(row, "row");
        return new TestSession(row.agentId(), row.workspace(), this);
    }

    /** The updates applied to {@code agentId}'s row, in the order they were applied. */
    public List<LifecycleUpdate> appliedTo(AgentId agentId) {
        synchronized (applied) {
            return List.copyOf(applied.getOrDefault(agentId, List.of()));
        }
    }

    /** Every applied update, by row, rows in the order they were first written. */
    public Map<AgentId, List<LifecycleUpdate>> appliedByRow() {
        synchronized (applied) {
            Map<AgentId, List<LifecycleUpdate>> copy = new LinkedHashMap<>();
            applied.forEach((agentId, updates) -> copy.put(agentId, List.copyOf(updates)));
            return copy;
        }
    }

    /** The service behind this control plane, for what the kit does not wrap (watching a workspace, say). */
    public LifecycleService service() {
        return service;
    }

    /** The store behind the service. */
    public InMemoryAgentStore store() {
        return store;
    }

    /** The meters the service records (build durations, clamps, duplicates). */
    public MeterRegistry meters() {
        return meters;
    }

    /** This control plane's clock. */
    public Clock clock() {
        return clock;
    }

    /** What a session's channel does with one update: apply it, remembering it if applied. */
    Mono<LifecycleAck> apply(AgentId agentId, LifecycleUpdate update) {
        return service.apply(agentId, update).doOnNext(ack -> {
            if (ack.outcome() == LifecycleAck.Outcome.APPLIED) {
                synchronized (applied) {
                    applied.computeIfAbsent(agentId, ignored -> new ArrayList<>()).add(update);
                }
            }
        });
    }

    private static <T> T answered(Mono<T> call, String what) {
        // The in-memory store answers synchronously; the wait only bounds a bug, and the kit's
        // calls are made on the test's thread, never inside a pipeline.
        T answer = call.block(STORE_ANSWER);
        if (answer == null) {
            throw new IllegalStateException(what + ": the control plane has no such row");
        }
        return answer;
    }
}
