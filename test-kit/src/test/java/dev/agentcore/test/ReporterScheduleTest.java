package dev.agentcore.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleTransition;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.agent.AgentChangePolicy;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent.SessionEnded;
import dev.agentcore.core.agent.ReporterEvent.UpdateAcknowledged;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/**
 * Seeded random schedules of transitions, disconnects, build boundaries (agent id changes),
 * failed sends, reinitializations and process restarts, each checked at the end against the
 * invariants of DESIGN.md section 7.
 *
 * <p>{@code -Dagentcore.schedules=N} runs more schedules; {@code -Dagentcore.seed=S} runs the one
 * schedule a failure printed.
 */
class ReporterScheduleTest {

    private static final String WORKSPACE = "ws";

    @Test
    void randomSchedulesKeepEveryInvariant() {
        String single = System.getProperty("agentcore.seed");
        if (single != null) {
            runChecked(Long.parseLong(single));
            return;
        }
        int schedules = Integer.getInteger("agentcore.schedules", 500);
        long base = Long.getLong("agentcore.baseSeed", 20261127L);
        System.out.printf("ReporterScheduleTest: %d schedules, seeds %d..%d%n", schedules, base, base + schedules - 1);
        for (int i = 0; i < schedules; i++) {
            runChecked(base + i);
        }
    }

    private static void runChecked(long seed) {
        try {
            new Schedule(seed).run();
        } catch (AssertionError | RuntimeException failure) {
            throw new AssertionError("schedule with seed " + seed + " failed; reproduce with "
                    + "mvn -pl test-kit test -Dtest=ReporterScheduleTest -Dagentcore.seed=" + seed + "\n"
                    + failure.getMessage(), failure);
        }
    }

    /** One agent process: its lifecycle and the reporter running it. */
    private static final class AgentProcess {
        final Lifecycle lifecycle;
        final TestConnector connector;
        final Disposable reporting;

        AgentProcess(String incarnation, MutableClock clock, AgentChangePolicy policy, List<ReporterEvent> events,
                TestConnector connector) {
            this.connector = connector;
            lifecycle = Lifecycle.create(clock, new ChainId(incarnation, 0));
            LifecycleReporter reporter = LifecycleReporter.builder(lifecycle).clock(clock).onAgentChange(policy).build();
            reporting = reporter.report(connector.sessions()).subscribe(event -> {
                events.add(event);
                if (event instanceof ReporterEvent.ReinitializationRequested) {
                    // The runtime: re-run startup on request (reentrantly, from inside the reporter's pipeline).
                    lifecycle.reinitialize();
                    lifecycle.transitionTo(LifecycleState.STARTING);
                }
            });
        }

        void stop() {
            reporting.dispose();
        }
    }

    private static final class Schedule {
        final long seed;
        final Random random;
        final MutableClock clock = MutableClock.at("2026-01-01T00:00:00Z");
        final TestControlPlane controlPlane = TestControlPlane.create(clock);
        final AgentChangePolicy policy;
        final List<ReporterEvent> events = new CopyOnWriteArrayList<>();
        final List<AgentRow> writes = new CopyOnWriteArrayList<>();
        final List<String> trace = new ArrayList<>();
        AgentProcess agent;
        TestSession session;
        int incarnations;

        Schedule(long seed) {
            this.seed = seed;
            this.random = new Random(seed);
            this.policy = random.nextInt(4) == 0 ? AgentChangePolicy.REINITIALIZE : AgentChangePolicy.REPLAY;
        }

        void run() {
            Disposable recording = controlPlane.store().changes().subscribe(writes::add);
            controlPlane.startBuild(WORKSPACE);
            agent = newProcess();
            int steps = 20 + random.nextInt(40);
            for (int step = 0; step < steps; step++) {
                clock.advance(Duration.ofMillis(random.nextInt(4) == 0 ? 0 : random.nextInt(5_000)));
                int dice = random.nextInt(100);
                if (dice < 35) {
                    transition();
                } else if (dice < 55) {
                    connect(random.nextInt(3) == 0);
                } else if (dice < 68) {
                    cut();
                } else if (dice < 82) {
                    trace.add("build");
                    controlPlane.startBuild(WORKSPACE);
                } else if (dice < 90) {
                    trace.add("reinitialize");
                    agent.lifecycle.reinitialize();
                    agent.lifecycle.transitionTo(LifecycleState.STARTING);
                } else if (dice < 94) {
                    restart();
                } else {
                    clock.advance(Duration.ofHours(1 + random.nextInt(48)));
                    trace.add("suspend");
                }
            }
            // Settle: the agent ends on a healthy session to the workspace's active row.
            clock.advance(Duration.ofSeconds(1));
            connect(false);
            recording.dispose();
            try {
                checkInvariants();
            } catch (AssertionError failure) {
                throw new AssertionError("policy " + policy + ", steps " + trace + "\n" + failure.getMessage(), failure);
            } finally {
                agent.stop();
            }
        }

        AgentProcess newProcess() {
            return new AgentProcess("incarnation-" + seed + "-" + incarnations++, clock, policy, events, controlPlane.connector());
        }

        void transition() {
            LifecycleState current = agent.lifecycle.current().state();
            List<LifecycleState> next = Arrays.stream(LifecycleState.values()).filter(current::canAdvanceTo).toList();
            if (next.isEmpty()) {
                return;
            }
            // Prefer the next stage, as real agents do, but sometimes skip ahead.
            LifecycleState chosen = random.nextInt(4) == 0 ? next.get(random.nextInt(next.size())) : next.get(0);
            trace.add(chosen.name());
            agent.lifecycle.transitionTo(chosen);
        }

        void connect(boolean faulty) {
            cut();
            AgentRow active = controlPlane.store().latestRow(WORKSPACE).block(Duration.ofSeconds(5));
            if (active == null || !active.active()) {
                active = controlPlane.startBuild(WORKSPACE);
            }
            session = controlPlane.session(active);
            if (faulty) {
                int at = random.nextInt(3);
                boolean applied = random.nextBoolean();
                session.failAt(at, applied);
                trace.add("connect(fail@" + at + (applied ? ",applied" : "") + ")");
            } else {
                trace.add("connect");
            }
            agent.connector.connect(session);
        }

        void cut() {
            if (session != null) {
                session.cut();
                session = null;
                trace.add("cut");
            }
        }

        void restart() {
            cut();
            agent.stop();
            clock.advance(Duration.ofSeconds(1 + random.nextInt(30)));
            agent = newProcess();
            agent.lifecycle.transitionTo(LifecycleState.STARTING);
            trace.add("restart");
        }

        void checkInvariants() {
            AgentRow active = controlPlane.store().latestRow(WORKSPACE).block(Duration.ofSeconds(5));
            assertThat(active.active()).as("the workspace has an active row").isTrue();
            List<LifecycleTransition> chain = agent.lifecycle.chain();
            LifecycleState latest = agent.lifecycle.current().state();

            // The active row's state equals the agent's latest state.
            assertThat(active.state()).as("active row state vs agent's latest state").isEqualTo(latest);

            // The active row holds the agent's whole current chain, each seq once and in order.
            List<Long> seqsOfChain = controlPlane.appliedTo(active.agentId()).stream()
                    .filter(update -> update.chain().equals(chain.get(0).chain()))
                    .map(LifecycleUpdate::seq).toList();
            List<Long> expected = chain.stream().skip(1).map(LifecycleTransition::seq).toList();
            assertThat(seqsOfChain).as("seqs of the current chain applied to the active row").isEqualTo(expected);

            for (Map.Entry<AgentId, List<LifecycleUpdate>> entry : controlPlane.appliedByRow().entrySet()) {
                List<LifecycleUpdate> applied = entry.getValue();
                // No (chain, seq) applied twice to a row.
                Set<String> keys = new HashSet<>();
                for (LifecycleUpdate update : applied) {
                    assertThat(keys.add(update.chain() + "#" + update.seq()))
                            .as("%s applied twice to row %s", update.chain() + "#" + update.seq(), entry.getKey())
                            .isTrue();
                }
                // The changed_at values a row received are strictly increasing.
                for (int i = 1; i < applied.size(); i++) {
                    assertThat(applied.get(i).changedAt()).as("changed_at order on row %s at %d", entry.getKey(), i)
                            .isAfter(applied.get(i - 1).changedAt());
                }
            }

            Set<AgentId> retired = new HashSet<>();
            for (AgentRow write : writes) {
                // A retired row is never written again.
                assertThat(retired).as("write to a retired row").doesNotContain(write.agentId());
                if (!write.active()) {
                    retired.add(write.agentId());
                }
                // started_at <= ready_at, both at or after the row's creation.
                if (write.startedAt() != null) {
                    assertThat(write.startedAt()).isAfterOrEqualTo(write.createdAt());
                }
                if (write.readyAt() != null) {
                    assertThat(write.readyAt()).isAfterOrEqualTo(write.startedAt());
                }
            }

            // Nothing acknowledged is lost: every acknowledged update is in its row's applied log.
            for (ReporterEvent event : events) {
                if (event instanceof UpdateAcknowledged acked) {
                    LifecycleAck ack = acked.ack();
                    boolean present = controlPlane.appliedTo(acked.agentId()).stream()
                            .anyMatch(u -> u.chain().equals(ack.chain()) && u.seq() == ack.seq());
                    assertThat(present).as("acknowledged %s#%d on %s is applied", ack.chain(), ack.seq(), acked.agentId())
                            .isTrue();
                }
                // The control plane never refused an update for any reason but a retired row.
                if (event instanceof SessionEnded ended && ended.error().orElse(null) instanceof AgentcoreException refused) {
                    assertThat(refused.code()).as("refusal %s", refused.getMessage()).isEqualTo(ErrorCode.FENCED);
                }
            }
            Instant now = clock.instant();
            assertThat(active.createdAt()).isBeforeOrEqualTo(now);
        }
    }
}
