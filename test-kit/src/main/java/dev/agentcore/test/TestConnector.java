package dev.agentcore.test;

import dev.agentcore.core.agent.AgentSession;
import dev.agentcore.core.control.AgentRow;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * One agent's way to a {@link TestControlPlane}, standing in for the transport's connector: the
 * test decides when a session is established ({@link #connect}) and when the connector gives
 * up ({@link #giveUp}); {@link #sessions()} is what the runtime hands its reporter.
 *
 * <p>Like a real connector's, a new session supersedes the previous one. A reporter that
 * subscribes late receives the current session only.
 */
public final class TestConnector {

    private final TestControlPlane controlPlane;
    private final Sinks.Many<AgentSession> sessions = Sinks.many().replay().latest();

    TestConnector(TestControlPlane controlPlane) {
        this.controlPlane = controlPlane;
    }

    /** The sessions this connector establishes, one at a time; completes after {@link #giveUp()}. */
    public Flux<AgentSession> sessions() {
        return sessions.asFlux();
    }

    /** Establishes a session bound to {@code row} and returns it; it supersedes the current one. */
    public TestSession connect(AgentRow row) {
        return connect(controlPlane.session(row));
    }

    /** Establishes {@code session} (configured beforehand: faults, held updates, slow acks); it supersedes the current one. */
    public TestSession connect(TestSession session) {
        Objects.requireNonNull(session, "session");
        Sinks.EmitResult result = sessions.tryEmitNext(session);
        if (result == Sinks.EmitResult.FAIL_TERMINATED) {
            throw new IllegalStateException("this connector gave up: it establishes no more sessions");
        }
        if (result.isFailure()) {
            // The only other refusal is two threads connecting at once.
            throw new IllegalStateException("could not establish the session (connect from one thread at a time): " + result);
        }
        return session;
    }

    /** The connector gives up: no more sessions; a reporter completes once the current session ends. Giving up twice does nothing. */
    public void giveUp() {
        Sinks.EmitResult result = sessions.tryEmitComplete();
        if (result.isFailure() && result != Sinks.EmitResult.FAIL_TERMINATED) {
            throw new IllegalStateException("could not give up (call from one thread at a time): " + result);
        }
    }
}
