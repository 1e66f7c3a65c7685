package dev.agentcore.cli;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleTransition;
import dev.agentcore.core.Manifest;
import dev.agentcore.core.Script;
import dev.agentcore.core.agent.AgentChangePolicy;
import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.agent.Lifecycle;
import dev.agentcore.core.agent.LifecycleReporter;
import dev.agentcore.core.agent.ReporterEvent;
import dev.agentcore.transport.AgentConnector;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A real agent: connects, runs the manifest's startup scripts as processes with their timeouts
 * (STARTING, then READY, START_TIMEOUT or START_ERROR), reports every transition, and on
 * shutdown walks SHUTTING_DOWN, the shutdown scripts, OFF. This is application code, the edge of
 * the program: it blocks on purpose, on its own threads.
 */
final class AgentRuntime implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AgentRuntime.class);

    final Lifecycle lifecycle = Lifecycle.create(Clock.systemUTC());
    private final Sinks.One<Manifest> firstManifest = Sinks.one();
    private final Sinks.Many<Manifest> manifests = Sinks.many().replay().all();
    private final AtomicReference<Manifest> latestManifest = new AtomicReference<>();
    private final Sinks.Many<LifecycleAck> acks = Sinks.many().replay().latest();
    /**
     * Work for the main thread: a {@link Manifest} to reinitialize with, or {@link Stopped}. Added to
     * on an event loop: LinkedTransferQueue's add takes no lock (LinkedBlockingQueue's waits for the
     * lock the main thread holds while it starts to wait in take).
     */
    private final BlockingQueue<Object> work = new LinkedTransferQueue<>();
    private final AtomicReference<Stopped> stopped = new AtomicReference<>();
    private final AtomicReference<Process> running = new AtomicReference<>();
    private final Disposable reporting;

    /** Starts reporting: with agentcore's reporter, or with the naive one that has the original bug. */
    AgentRuntime(AgentConnector connector, AgentChangePolicy policy, boolean naive) {
        Flux<AgentSession> sessions = connector.sessions().doOnNext(session -> {
            latestManifest.set(session.manifest());
            // Only the first manifest counts here: later ones find the sink terminated.
            Sinks.EmitResult first = firstManifest.tryEmitValue(session.manifest());
            if (first.isFailure() && first != Sinks.EmitResult.FAIL_TERMINATED) {
                first.orThrow();
            }
            manifests.tryEmitNext(session.manifest()).orThrow();
        });
        if (naive) {
            reporting = NaiveReporter.report(lifecycle, sessions).subscribe(ack -> acks.tryEmitNext(ack).orThrow());
        } else {
            LifecycleReporter reporter = LifecycleReporter.builder(lifecycle).onAgentChange(policy).build();
            reporting = reporter.report(sessions).subscribe(this::onEvent, this::onReportingStopped);
        }
    }

    /** Why reporting stopped for good, and the exit code that says so. */
    record Stopped(String reason, int exitCode) {
    }

    /** Reporting ended with an error: nothing will be reported from now on; the main thread exits. */
    private void onReportingStopped(Throwable error) {
        Stopped stop;
        if (error instanceof AgentcoreException refusal && refusal.code() == ErrorCode.SUPERSEDED) {
            stop = new Stopped("another agent process reports for this workspace: " + refusal.getMessage(),
                    ExitCodes.SUPERSEDED);
        } else if (error instanceof AgentcoreException refusal && refusal.code() == ErrorCode.UNAUTHENTICATED) {
            stop = new Stopped(refusal.getMessage(), ExitCodes.IDENTITY_REFUSED);
        } else {
            log.error("reporting failed", error);
            stop = new Stopped("reporting failed: " + ErrorMessages.describe(error), ExitCodes.ERROR);
        }
        log.warn("stopping: {}", stop.reason());
        stopped.set(stop);
        work.add(stop);
        Sinks.EmitResult result = firstManifest.tryEmitError(new CommandFailure(stop.reason(), stop.exitCode()));
        if (result.isFailure() && result != Sinks.EmitResult.FAIL_TERMINATED) {
            log.debug("could not signal the first-manifest waiter: {}", result);
        }
    }

    private void onEvent(ReporterEvent event) {
        log.debug("{}", event);
        if (event instanceof ReporterEvent.UpdateAcknowledged acknowledged) {
            acks.tryEmitNext(acknowledged.ack()).orThrow();
        } else if (event instanceof ReporterEvent.SessionStarted started) {
            log.info("session on agent row {} ({}{})", started.manifest().agentId(), started.resumption(),
                    switch (started.comparison()) {
                        case SAME -> started.resumption() == ReporterEvent.Resumption.REPLAY
                                ? ": the new build's manifest runs the same scripts"
                                : ": the reinitialization under way runs the new build's scripts";
                        case CHANGED -> ": the new build's manifest changed";
                        case NOT_COMPARED -> "";
                    });
        } else if (event instanceof ReporterEvent.UpdateRefused refused && warnsAt(refused.inARow())) {
            log.warn("the control plane refused this agent's update ({} in a row): {}: {}", refused.inARow(),
                    refused.refusal().code(), refused.refusal().getMessage());
        } else if (event instanceof ReporterEvent.ReinitializationRequested requested) {
            log.info("the agent row changed to {}: reinitializing", requested.request().manifest().agentId());
            work.add(requested.request().manifest());
        }
    }

    /** Whether the {@code n}-th refusal in a row is worth a warning: the 1st, 3rd, 10th, then every 10th. */
    private static boolean warnsAt(int n) {
        return n == 1 || n == 3 || n % 10 == 0;
    }

    /** The manifest of every session so far, then of each new one. */
    Flux<Manifest> manifests() {
        return manifests.asFlux();
    }

    /** The manifest of the first session, once connected. */
    Manifest awaitFirstManifest(Duration timeout) {
        Manifest manifest = firstManifest.asMono().block(timeout);
        if (manifest == null) {
            throw new CommandFailure("no session with the control plane within " + timeout);
        }
        return manifest;
    }

    /** Runs startup: STARTING, each script in turn, then READY, START_TIMEOUT or START_ERROR. */
    void runStartup(Manifest manifest) {
        if (!advance(LifecycleState.STARTING)) {
            return;
        }
        LifecycleState outcome = runScripts(manifest.startupScripts(), LifecycleState.READY,
                LifecycleState.START_TIMEOUT, LifecycleState.START_ERROR);
        advance(outcome);
    }

    /**
     * Serves reinitialization requests (policy REINITIALIZE) until interrupted, or until reporting
     * stops for good (a {@link CommandFailure} with that reason's exit code).
     */
    void serveReinitializations() throws InterruptedException {
        while (true) {
            Object next = work.take();
            if (next instanceof Stopped stop) {
                throw new CommandFailure(stop.reason(), stop.exitCode());
            }
            lifecycle.reinitialize();
            runStartup((Manifest) next);
        }
    }

    /** Shuts down: SHUTTING_DOWN, the shutdown scripts, then OFF (or a timeout or error), acknowledged. */
    void shutdown(Duration ackTimeout) {
        Process startup = running.get();
        if (startup != null) {
            endWithDescendants(startup);
        }
        if (stopped.get() != null) {
            // Nothing can be reported any more; and a superseded process's row is another's, whose
            // shutdown is not ours to run.
            log.info("not running the shutdown scripts: this process no longer reports for the workspace");
            return;
        }
        if (!advance(LifecycleState.SHUTTING_DOWN)) {
            return;
        }
        Manifest manifest = latestManifest.get();
        List<Script> scripts = manifest == null ? List.of() : manifest.shutdownScripts();
        LifecycleState outcome = runScripts(scripts, LifecycleState.OFF, LifecycleState.SHUTDOWN_TIMEOUT,
                LifecycleState.SHUTDOWN_ERROR);
        if (!advance(outcome)) {
            return;
        }
        LifecycleTransition last = lifecycle.current();
        // A deadline that ends the wait empty (block(timeout) would throw instead): no control plane
        // to hear OFF is an outcome to report in one line, not a crash.
        LifecycleAck acknowledged = acks.asFlux()
                .filter(ack -> ack.chain().equals(last.chain()) && ack.seq() >= last.seq())
                .next()
                .timeout(ackTimeout, Mono.empty())
                .onErrorComplete()
                .block();
        if (acknowledged == null) {
            log.warn("{} was not acknowledged within {} s: the control plane could not be reached; exiting anyway",
                    last.state(), ackTimeout.toSeconds());
        }
    }

    private boolean advance(LifecycleState state) {
        try {
            LifecycleTransition transition = lifecycle.transitionTo(state);
            log.info("lifecycle: {}", transition.state());
            return true;
        } catch (IllegalStateException refused) {
            // Shutdown won a race with startup (or the reverse): the later stage stands.
            log.info("not moving to {}: {}", state, refused.getMessage());
            return false;
        }
    }

    private LifecycleState runScripts(List<Script> scripts, LifecycleState ok, LifecycleState timedOut,
                                      LifecycleState failed) {
        for (Script script : scripts) {
            Process process = null;
            try {
                process = new ProcessBuilder("sh", "-c", script.command())
                        .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start();
                running.set(process);
                if (!process.waitFor(script.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                    endWithDescendants(process);
                    log.warn("script '{}' ran past its timeout of {}", script.command(), script.timeout());
                    return timedOut;
                }
                if (process.exitValue() != 0) {
                    log.warn("script '{}' exited with {}", script.command(), process.exitValue());
                    return failed;
                }
            } catch (IOException e) {
                log.warn("script '{}' could not start: {}", script.command(), e.toString());
                return failed;
            } catch (InterruptedException e) {
                // Stopping (SIGTERM): the script is abandoned, so it ends here, with what it started.
                // The shutdown hook ends it too, but it may look after this thread has let go of it.
                endWithDescendants(process);
                Thread.currentThread().interrupt();
                return failed;
            } finally {
                running.set(null);
            }
        }
        return ok;
    }

    /**
     * Ends a script and every process it started. The descendants are listed before anything is
     * killed: a killed shell's children are handed to init and are no longer its descendants. A
     * process that detached itself on purpose (a daemon that called setsid) is beyond this.
     */
    static void endWithDescendants(Process script) {
        List<ProcessHandle> tree = Stream.concat(Stream.of(script.toHandle()), script.descendants()).toList();
        tree.forEach(ProcessHandle::destroyForcibly);
    }

    @Override
    public void close() {
        reporting.dispose();
    }
}
