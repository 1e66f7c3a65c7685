package dev.agentcore.core.control;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleState;
import java.time.Instant;
import java.util.Objects;

/**
 * One build's agent row, as the control plane stores it.
 *
 * @param agentId the row's id
 * @param workspace the workspace whose build created it
 * @param buildNumber the build's number within the workspace, from 1
 * @param createdAt when the build created the row
 * @param state the latest applied lifecycle state
 * @param startedAt when the agent last entered STARTING; null before
 * @param readyAt when startup last ended (READY, START_TIMEOUT or START_ERROR); null before
 * @param lastChain the chain of the latest applied update; null before the first
 * @param lastSeq the seq of the latest applied update; 0 before the first
 * @param active false once a later build (or a stop) retired the row; a retired row takes no update
 * @param buildDurationRecorded whether the build-duration metric was recorded for this row
 * @param version incremented by every write; writes compare and set it
 * @param scriptsRevision the revision of the workspace's scripts this row's manifest carries, fixed when
 *        the build starts (1: the scripts the workspace was created with), so that a workspace's
 *        update never changes the manifest of a row already running
 */
public record AgentRow(AgentId agentId, String workspace, long buildNumber, Instant createdAt,
                       LifecycleState state, Instant startedAt, Instant readyAt,
                       ChainId lastChain, long lastSeq, boolean active,
                       boolean buildDurationRecorded, long version, long scriptsRevision) {

    public AgentRow {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(workspace, "workspace");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(state, "state");
        if (scriptsRevision < 1) {
            throw new IllegalArgumentException("scriptsRevision: from 1, was " + scriptsRevision);
        }
    }

    /** A new active row at CREATED, version 1, whose manifest carries that revision of the workspace's scripts. */
    public static AgentRow created(AgentId agentId, String workspace, long buildNumber, Instant createdAt,
            long scriptsRevision) {
        return new AgentRow(agentId, workspace, buildNumber, createdAt, LifecycleState.CREATED, null, null, null, 0,
                true, false, 1, scriptsRevision);
    }

    /** This row retired, one version later. */
    public AgentRow retired() {
        return new AgentRow(agentId, workspace, buildNumber, createdAt, state, startedAt, readyAt, lastChain, lastSeq,
                false, buildDurationRecorded, version + 1, scriptsRevision);
    }

    /** Whether this row is a later picture of the workspace than {@code other}: a later build, or a later version. */
    public boolean isNewerThan(AgentRow other) {
        return buildNumber != other.buildNumber ? buildNumber > other.buildNumber : version > other.version;
    }
}
