package dev.agentcore.core.testing;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.LifecycleService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import reactor.core.publisher.Mono;

/**
 * The control-plane side of DESIGN.md 4.2 in memory, recording every update it applied, for
 * tests that check outcomes on rows.
 */
public final class TestControlPlane {

    /** An update the service applied (acknowledged APPLIED) to a row. */
    public record Applied(AgentId row, LifecycleUpdate update) {
    }

    public final MutableClock clock;
    public final InMemoryAgentStore store = new InMemoryAgentStore();
    public final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    public final LifecycleService service;
    private final List<Applied> applied = Collections.synchronizedList(new ArrayList<>());

    public TestControlPlane(MutableClock clock) {
        this.clock = clock;
        this.service = LifecycleService.builder(store).clock(clock).meterRegistry(meters).build();
    }

    public AgentRow startBuild(String workspace) {
        return service.startBuild(workspace).block(Duration.ofSeconds(5));
    }

    public AgentRow row(AgentId id) {
        return store.findRow(id).block(Duration.ofSeconds(5));
    }

    public TestSession session(AgentRow row) {
        return new TestSession(row.id(), row.workspace(), this, false);
    }

    /** A session whose updates wait until {@link TestSession#release()}. */
    public TestSession heldSession(AgentRow row) {
        return new TestSession(row.id(), row.workspace(), this, true);
    }

    Mono<LifecycleAck> apply(AgentId row, LifecycleUpdate update) {
        return service.apply(row, update).doOnNext(ack -> {
            if (ack.outcome() == LifecycleAck.Outcome.APPLIED) {
                applied.add(new Applied(row, update));
            }
        });
    }

    /** The updates applied to {@code row}, in order. */
    public List<LifecycleUpdate> appliedTo(AgentId row) {
        synchronized (applied) {
            return applied.stream().filter(a -> a.row().equals(row)).map(Applied::update).toList();
        }
    }

    /** Every applied update, by row. */
    public Map<AgentId, List<LifecycleUpdate>> appliedByRow() {
        synchronized (applied) {
            return applied.stream().collect(Collectors.groupingBy(Applied::row,
                    Collectors.mapping(Applied::update, Collectors.toList())));
        }
    }

    public Instant now() {
        return clock.instant();
    }
}
