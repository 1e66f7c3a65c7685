package dev.agentcore.examples;

import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.transport.AgentConnector;
import dev.agentcore.transport.ControlPlaneAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Example: an agent runtime that reports its lifecycle. It runs its startup step and reports
 * STARTING, then READY (or START_ERROR); stopping reports SHUTTING_DOWN and OFF. Across a build
 * boundary the reporter replays the chain onto the new row by itself. Run it as
 * {@code ReportingRuntime HOST:PORT IDENTITY_FILE}.
 */
public final class ReportingRuntime implements AutoCloseable {

    private final Lifecycle lifecycle;
    private final Flux<ReporterEvent> events;
    private final Disposable reporting;

    /** A runtime reporting to the control plane at {@code controlPlane}, as the agent {@code instanceIdentity} names. */
    public ReportingRuntime(ControlPlaneAddress controlPlane, String instanceIdentity) {
        this(AgentConnector.builder(controlPlane, instanceIdentity).build().sessions(), Clock.systemUTC());
    }

    /** A runtime reporting over any sessions: a connector's in production, a test kit's in a test (ReportingRuntimeTest). */
    public ReportingRuntime(Flux<? extends AgentSession> sessions, Clock clock) {
        this.lifecycle = Lifecycle.create(clock);
        // One subscription to the reporter, shared by whoever watches the events.
        this.events = LifecycleReporter.builder(lifecycle).clock(clock).build().report(sessions).publish().autoConnect();
        this.reporting = events.subscribe(event -> System.out.println("agent: " + event));
    }

    /** Reports STARTING, runs {@code startupStep}, then reports READY, or START_ERROR if it threw. */
    public void start(Runnable startupStep) {
        lifecycle.transitionTo(LifecycleState.STARTING);
        try {
            startupStep.run();
        } catch (RuntimeException e) {
            lifecycle.transitionTo(LifecycleState.START_ERROR);
            throw e;
        }
        lifecycle.transitionTo(LifecycleState.READY);
    }

    /** Reports SHUTTING_DOWN and OFF; completes once the control plane acknowledged OFF, or after {@code patience}. */
    public Mono<Void> stop(Duration patience) {
        Mono<Void> offAcknowledged = events.ofType(ReporterEvent.UpdateAcknowledged.class)
                .filter(acknowledged -> acknowledged.ack().rowState() == LifecycleState.OFF)
                .next().then();
        return offAcknowledged
                .doOnSubscribe(subscription -> {
                    lifecycle.transitionTo(LifecycleState.SHUTTING_DOWN);
                    lifecycle.transitionTo(LifecycleState.OFF);
                })
                .timeout(patience, Mono.fromRunnable(() -> System.err.println("agent: OFF not acknowledged in " + patience)));
    }

    /** What the reporter does, as it does it. */
    public Flux<ReporterEvent> events() {
        return events;
    }

    @Override
    public void close() {
        reporting.dispose();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: ReportingRuntime HOST:PORT IDENTITY_FILE");
            System.exit(2);
        }
        ReportingRuntime runtime = new ReportingRuntime(ControlPlaneAddress.parse(args[0]),
                Files.readString(Path.of(args[1])).strip());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            runtime.stop(Duration.ofSeconds(10)).block();
            runtime.close();
        }));
        runtime.start(() -> System.out.println("agent: starting up"));
        Thread.currentThread().join();
    }
}
