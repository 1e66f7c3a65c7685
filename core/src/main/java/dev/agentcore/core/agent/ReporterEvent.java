package dev.agentcore.core.agent;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.LifecycleAck;
import dev.agentcore.core.LifecycleUpdate;
import dev.agentcore.core.Manifest;
import java.util.Objects;
import java.util.Optional;

/** What a running {@link LifecycleReporter} did, in the order it did it: for logs, timelines and tests. */
public sealed interface ReporterEvent {

    /** How a session continues the reporting of the session before it. */
    enum Resumption {
        /** The first session of this reporter: everything not yet acknowledged is sent. */
        FIRST,
        /** Same row as before: sending resumes after the last acknowledged seq. */
        RESUME,
        /** A new row: the current chain is replayed onto it. */
        REPLAY,
        /** A new row: the runtime was asked to reinitialize; its new generation will be sent. */
        REINITIALIZE
    }

    /** Whether the reporter compared the new row's manifest with the previous row's, and what it found. */
    enum ManifestComparison {
        /** Not compared: the same row, the first session, or a policy that does not look (REPLAY, REINITIALIZE). */
        NOT_COMPARED,
        /**
         * {@link AgentChangePolicy#AUTO} at a new row: the same content, so the chain was replayed; or,
         * while the reinitialization asked for at the previous row has not begun, that one serves this row too.
         */
        SAME,
        /** {@link AgentChangePolicy#AUTO} at a new row: the content changed, so the runtime was asked to reinitialize. */
        CHANGED
    }

    /** A session became the current one: how it continues the last one, and for AUTO why. */
    record SessionStarted(Manifest manifest, Resumption resumption, ManifestComparison comparison)
            implements ReporterEvent {
        public SessionStarted {
            Objects.requireNonNull(manifest, "manifest");
            Objects.requireNonNull(resumption, "resumption");
            Objects.requireNonNull(comparison, "comparison");
        }

        /** A session whose manifest was not compared with the previous one. */
        public SessionStarted(Manifest manifest, Resumption resumption) {
            this(manifest, resumption, ManifestComparison.NOT_COMPARED);
        }
    }

    /** An update was handed to the current session's channel. */
    record UpdateSent(AgentId agentId, LifecycleUpdate update) implements ReporterEvent {
        public UpdateSent {
            Objects.requireNonNull(agentId, "agentId");
            Objects.requireNonNull(update, "update");
        }
    }

    /** The control plane acknowledged an update. */
    record UpdateAcknowledged(AgentId agentId, LifecycleAck ack) implements ReporterEvent {
        public UpdateAcknowledged {
            Objects.requireNonNull(agentId, "agentId");
            Objects.requireNonNull(ack, "ack");
        }
    }

    /** The current session ended; its unacknowledged updates will be sent on the next one. */
    record SessionEnded(AgentId agentId, Optional<Throwable> error) implements ReporterEvent {
        public SessionEnded {
            Objects.requireNonNull(agentId, "agentId");
            Objects.requireNonNull(error, "error");
        }
    }

    /**
     * The current session ended with a refusal that retrying will not fix (INVALID_TRANSITION,
     * INVALID_ARGUMENT, SUPERSEDED): {@code inARow} counts such refusals of the same code with no
     * update acknowledged in between, so a runtime can escalate. The connector backs off between
     * sessions that made no progress; SUPERSEDED also ends {@link LifecycleReporter#report}.
     */
    record UpdateRefused(AgentId agentId, AgentcoreException refusal, int inARow) implements ReporterEvent {
        public UpdateRefused {
            Objects.requireNonNull(agentId, "agentId");
            Objects.requireNonNull(refusal, "refusal");
            if (inARow < 1) {
                throw new IllegalArgumentException("inARow: at least 1, was " + inARow);
            }
        }
    }

    /**
     * The runtime is asked to reinitialize (policy {@link AgentChangePolicy#REINITIALIZE}): the one
     * place this request is published; the runtime re-runs startup as a new generation.
     */
    record ReinitializationRequested(ReinitializationRequest request) implements ReporterEvent {
        public ReinitializationRequested {
            Objects.requireNonNull(request, "request");
        }
    }
}
