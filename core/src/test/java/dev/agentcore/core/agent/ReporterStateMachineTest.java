package dev.agentcore.core.agent;

import static dev.agentcore.core.LifecycleState.CREATED;
import static dev.agentcore.core.LifecycleState.READY;
import static dev.agentcore.core.LifecycleState.STARTING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleTransition;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.Script;
import dev.agentcore.core.agent.ReporterEvent.ManifestComparison;
import dev.agentcore.core.agent.ReporterEvent.ReinitializationRequested;
import dev.agentcore.core.agent.ReporterEvent.Resumption;
import dev.agentcore.core.agent.ReporterEvent.SessionEnded;
import dev.agentcore.core.agent.ReporterEvent.SessionStarted;
import dev.agentcore.core.agent.ReporterEvent.UpdateRefused;
import dev.agentcore.core.agent.ReporterStateMachine.Acked;
import dev.agentcore.core.agent.ReporterStateMachine.Connected;
import dev.agentcore.core.agent.ReporterStateMachine.Disconnected;
import dev.agentcore.core.agent.ReporterStateMachine.Effect;
import dev.agentcore.core.agent.ReporterStateMachine.EndUpdates;
import dev.agentcore.core.agent.ReporterStateMachine.Publish;
import dev.agentcore.core.agent.ReporterStateMachine.Send;
import dev.agentcore.core.agent.ReporterStateMachine.Stepped;
import dev.agentcore.core.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The reporter's rules on their own: signals in, effects out, no Reactor and no threads. Sessions
 * are named by strings; the clock moves only when a test moves it.
 */
class ReporterStateMachineTest {

    private static final ChainId CHAIN = new ChainId("incarnation-1", 0);
    private static final AgentId ROW_A = AgentId.of("row-a");
    private static final AgentId ROW_B = AgentId.of("row-b");

    private final MutableClock clock = MutableClock.at("2026-01-01T10:00:00Z");
    private final Instant t0 = clock.instant();
    private final List<LifecycleTransition> chain = new ArrayList<>();

    private ReporterStateMachine<String> machine = new ReporterStateMachine<>(AgentChangePolicy.REPLAY, clock);

    /** The lifecycle moves: the machine receives the chain as it stands. */
    private List<Effect<String>> step(LifecycleState state, Duration after) {
        ChainId id = chain.isEmpty() ? CHAIN : chain.get(0).chain();
        chain.add(new LifecycleTransition(id, chain.size(), state, t0.plus(after)));
        return machine.on(new Stepped<>(List.copyOf(chain)));
    }

    private List<Effect<String>> reinitialize(Duration after) {
        ChainId next = chain.get(0).chain().nextGeneration();
        chain.clear();
        chain.add(new LifecycleTransition(next, 0, CREATED, t0.plus(after)));
        return machine.on(new Stepped<>(List.copyOf(chain)));
    }

    private List<Effect<String>> connect(String session, AgentId agentId) {
        return connect(session, agentId, ClockOffset.UNKNOWN);
    }

    private List<Effect<String>> connect(String session, AgentId agentId, ClockOffset offset) {
        return machine.on(new Connected<>(session, Manifest.of(agentId, "ws", "agent"), offset));
    }

    private List<Effect<String>> ack(String session, long seq) {
        return machine.on(new Acked<>(session, new LifecycleAck(chain.get(0).chain(), seq,
                LifecycleAck.Outcome.APPLIED, chain.get((int) seq).state())));
    }

    private static List<LifecycleUpdate> sent(List<Effect<String>> effects, String session) {
        return effects.stream().filter(Send.class::isInstance).map(effect -> (Send<String>) effect)
                .filter(send -> send.session().equals(session)).map(Send::update).toList();
    }

    private static List<ReporterEvent> published(List<Effect<String>> effects) {
        return effects.stream().filter(Publish.class::isInstance)
                .map(effect -> ((Publish<String>) effect).event()).toList();
    }

    @Test
    void theFirstSessionGetsEveryTransitionAfterCreatedWithItsOwnTime() {
        step(CREATED, Duration.ZERO);
        step(STARTING, Duration.ofSeconds(1));

        List<Effect<String>> effects = connect("s1", ROW_A);

        assertThat(published(effects).get(0)).isEqualTo(
                new SessionStarted(Manifest.of(ROW_A, "ws", "agent"), Resumption.FIRST));
        assertThat(sent(effects, "s1")).containsExactly(
                new LifecycleUpdate(CHAIN, 1, STARTING, t0.plusSeconds(1), false, null));
        assertThat(sent(step(READY, Duration.ofSeconds(4)), "s1")).containsExactly(
                new LifecycleUpdate(CHAIN, 2, READY, t0.plusSeconds(4), false, null));
    }

    @Test
    void nothingIsSentWithoutASession() {
        step(CREATED, Duration.ZERO);

        assertThat(step(STARTING, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void aSessionOnTheSameRowResendsOnlyWhatWasNotAcknowledgedWithTheSameTimes() {
        step(CREATED, Duration.ZERO);
        connect("s1", ROW_A);
        List<LifecycleUpdate> first = new ArrayList<>(sent(step(STARTING, Duration.ofSeconds(1)), "s1"));
        first.addAll(sent(step(READY, Duration.ofSeconds(4)), "s1"));
        ack("s1", 1);
        machine.on(new Disconnected<>("s1", Optional.empty()));
        clock.advance(Duration.ofMinutes(5));

        List<Effect<String>> effects = connect("s2", ROW_A);

        assertThat(published(effects).get(0)).extracting(event -> ((SessionStarted) event).resumption())
                .isEqualTo(Resumption.RESUME);
        assertThat(sent(effects, "s2")).containsExactly(first.get(1));
    }

    @Test
    void aSessionOnAnotherRowGetsTheWholeChainAsReplaysStampedNowOneMillisecondApart() {
        step(CREATED, Duration.ZERO);
        connect("s1", ROW_A);
        step(STARTING, Duration.ofSeconds(1));
        step(READY, Duration.ofSeconds(4));
        ack("s1", 2);
        clock.advance(Duration.ofMinutes(5));
        Instant now = clock.instant();

        List<Effect<String>> effects = connect("s2", ROW_B);

        assertThat(effects.get(0)).isEqualTo(new EndUpdates<>("s1"));
        assertThat(sent(effects, "s2")).containsExactly(
                new LifecycleUpdate(CHAIN, 1, STARTING, now, true, t0.plusSeconds(1)),
                new LifecycleUpdate(CHAIN, 2, READY, now.plusMillis(1), true, t0.plusSeconds(4)));
    }

    private List<Effect<String>> connect(String session, Manifest manifest) {
        return machine.on(new Connected<>(session, manifest, ClockOffset.UNKNOWN));
    }

    private static Manifest withStartup(AgentId agentId, String agentName, String startup) {
        return new Manifest(agentId, "ws", agentName, List.of(new Script(startup, Duration.ofSeconds(30), true)), List.of());
    }

    @Test
    void underAutoANewRowWhoseManifestRunsTheSameGetsTheReplay() {
        machine = new ReporterStateMachine<>(AgentChangePolicy.AUTO, clock);
        step(CREATED, Duration.ZERO);
        connect("s1", withStartup(ROW_A, "agent", "make"));
        step(STARTING, Duration.ofSeconds(1));
        step(READY, Duration.ofSeconds(4));
        clock.advance(Duration.ofMinutes(5));
        Instant now = clock.instant();
        Manifest next = withStartup(ROW_B, "renamed agent", "make");

        List<Effect<String>> effects = connect("s2", next);

        assertThat(published(effects)).first()
                .isEqualTo(new SessionStarted(next, Resumption.REPLAY, ManifestComparison.SAME));
        assertThat(published(effects)).noneMatch(ReinitializationRequested.class::isInstance);
        assertThat(sent(effects, "s2")).containsExactly(
                new LifecycleUpdate(CHAIN, 1, STARTING, now, true, t0.plusSeconds(1)),
                new LifecycleUpdate(CHAIN, 2, READY, now.plusMillis(1), true, t0.plusSeconds(4)));
    }

    @Test
    void underAutoANewRowWhoseStartupChangedAsksToReinitializeAndReplaysNothing() {
        machine = new ReporterStateMachine<>(AgentChangePolicy.AUTO, clock);
        step(CREATED, Duration.ZERO);
        Manifest first = withStartup(ROW_A, "agent", "make");
        connect("s1", first);
        step(STARTING, Duration.ofSeconds(1));
        step(READY, Duration.ofSeconds(4));
        Manifest changed = withStartup(ROW_B, "agent", "make all");

        List<Effect<String>> effects = connect("s2", changed);

        assertThat(published(effects)).containsExactly(
                new SessionStarted(changed, Resumption.REINITIALIZE, ManifestComparison.CHANGED),
                new ReinitializationRequested(new ReinitializationRequest(ROW_A, changed)));
        assertThat(sent(effects, "s2")).isEmpty();
        List<Effect<String>> reinitialized = reinitialize(Duration.ofMinutes(6));
        assertThat(reinitialized).isEmpty();
        assertThat(sent(step(STARTING, Duration.ofMinutes(6).plusSeconds(1)), "s2")).singleElement()
                .satisfies(update -> {
                    assertThat(update.chain()).isEqualTo(CHAIN.nextGeneration());
                    assertThat(update.replay()).isFalse();
                });
    }

    @Test
    void underAutoTheFirstSessionAndTheSameRowAreNotCompared() {
        machine = new ReporterStateMachine<>(AgentChangePolicy.AUTO, clock);
        step(CREATED, Duration.ZERO);
        Manifest first = withStartup(ROW_A, "agent", "make");

        assertThat(published(connect("s1", first))).first()
                .isEqualTo(new SessionStarted(first, Resumption.FIRST, ManifestComparison.NOT_COMPARED));
        machine.on(new Disconnected<>("s1", Optional.empty()));
        Manifest sameRowChangedScripts = withStartup(ROW_A, "agent", "something else");
        assertThat(published(connect("s2", sameRowChangedScripts))).first()
                .isEqualTo(new SessionStarted(sameRowChangedScripts, Resumption.RESUME, ManifestComparison.NOT_COMPARED));
    }

    @Test
    void underReinitializeANewRowAsksOnceAndGetsOnlyTheNewGeneration() {
        machine = new ReporterStateMachine<>(AgentChangePolicy.REINITIALIZE, clock);
        step(CREATED, Duration.ZERO);
        connect("s1", ROW_A);
        step(STARTING, Duration.ofSeconds(1));
        step(READY, Duration.ofSeconds(4));

        List<Effect<String>> effects = connect("s2", ROW_B);

        assertThat(sent(effects, "s2")).isEmpty();
        assertThat(published(effects)).filteredOn(ReinitializationRequested.class::isInstance).singleElement()
                .isEqualTo(new ReinitializationRequested(
                        new ReinitializationRequest(ROW_A, Manifest.of(ROW_B, "ws", "agent"))));
        assertThat(step(STARTING, Duration.ofSeconds(10))).as("the old generation stays off the new row").isEmpty();

        reinitialize(Duration.ofSeconds(11));
        ChainId next = CHAIN.nextGeneration();
        assertThat(sent(step(STARTING, Duration.ofSeconds(12)), "s2")).containsExactly(
                new LifecycleUpdate(next, 1, STARTING, t0.plusSeconds(12), false, null));
    }

    @Test
    void acknowledgementsAndEndsOfASupersededSessionChangeNothing() {
        step(CREATED, Duration.ZERO);
        connect("s1", ROW_A);
        step(STARTING, Duration.ofSeconds(1));
        connect("s2", ROW_A);

        assertThat(ack("s1", 1)).isEmpty();
        assertThat(machine.on(new Disconnected<>("s1", Optional.empty()))).isEmpty();

        machine.on(new Disconnected<>("s2", Optional.empty()));
        assertThat(sent(connect("s3", ROW_A), "s3")).as("s1's ack did not count: seq 1 is sent again")
                .extracting(LifecycleUpdate::seq).containsExactly(1L);
    }

    @Test
    void refusalsThatRetryCannotFixAreCountedInARowUntilAnUpdateIsAcknowledged() {
        step(CREATED, Duration.ZERO);
        step(STARTING, Duration.ofSeconds(1));
        AgentcoreException refusal = new AgentcoreException(ErrorCode.INVALID_TRANSITION, "no");
        List<Integer> counts = new ArrayList<>();
        for (String session : List.of("s1", "s2")) {
            connect(session, ROW_A);
            published(machine.on(new Disconnected<>(session, Optional.of(refusal)))).stream()
                    .filter(UpdateRefused.class::isInstance)
                    .forEach(event -> counts.add(((UpdateRefused) event).inARow()));
        }
        connect("s3", ROW_A);
        ack("s3", 1);
        List<ReporterEvent> afterAck = published(machine.on(new Disconnected<>("s3", Optional.of(refusal))));

        assertThat(counts).containsExactly(1, 2);
        assertThat(afterAck).containsExactly(new SessionEnded(ROW_A, Optional.of(refusal)),
                new UpdateRefused(ROW_A, refusal, 1));
    }

    @Test
    void aCutConnectionIsNotARefusal() {
        step(CREATED, Duration.ZERO);
        connect("s1", ROW_A);
        RuntimeException cut = new RuntimeException("connection reset");

        assertThat(published(machine.on(new Disconnected<>("s1", Optional.of(cut)))))
                .containsExactly(new SessionEnded(ROW_A, Optional.of(cut)));
    }

    @Test
    void timesOnOneRowStrictlyIncreaseEvenWhenTheAgentClockDoesNot() {
        step(CREATED, Duration.ZERO);
        connect("s1", ROW_A);
        step(STARTING, Duration.ofSeconds(1));
        clock.advance(Duration.ofSeconds(1));
        // A replay onto row B stamps now (t0 + 1 s), the live READY after it carries the same second.
        List<Effect<String>> replayed = connect("s2", ROW_B);
        List<Effect<String>> live = step(READY, Duration.ofSeconds(1));

        Instant replayStamp = sent(replayed, "s2").get(0).changedAt();
        assertThat(sent(live, "s2").get(0).changedAt()).isEqualTo(replayStamp.plusMillis(1));
    }

    @Test
    void timesAreCorrectedByTheSessionsMeasuredClockOffset() {
        step(CREATED, Duration.ZERO);
        step(STARTING, Duration.ofSeconds(1));
        // The control plane's clock is an hour ahead, measured over a 20 ms round trip.
        Instant sent = t0.plusSeconds(2);
        ClockOffset offset = ClockOffset.measured(sent, sent.plusMillis(10).plus(Duration.ofHours(1)),
                sent.plusMillis(20));

        List<Effect<String>> effects = connect("s1", ROW_A, offset);

        assertThat(sent(effects, "s1").get(0).changedAt())
                .isEqualTo(t0.plusSeconds(1).plus(Duration.ofHours(1)).minusMillis(10));
    }

    @Test
    void aNewGenerationOnTheSameRowIsSentFromItsFirstTransition() {
        step(CREATED, Duration.ZERO);
        connect("s1", ROW_A);
        step(STARTING, Duration.ofSeconds(1));
        ack("s1", 1);

        reinitialize(Duration.ofSeconds(2));
        List<Effect<String>> effects = step(STARTING, Duration.ofSeconds(3));

        assertThat(sent(effects, "s1")).extracting(LifecycleUpdate::chain, LifecycleUpdate::seq)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(CHAIN.nextGeneration(), 1L));
    }
}
