package dev.agentcore.core;

/** The stable error codes the control plane answers with; the wire carries them unchanged. */
public enum ErrorCode {
    /** No valid credential, or one that does not allow this call. */
    UNAUTHENTICATED,
    /** The row is retired or unknown: the session must exchange its identity again. */
    FENCED,
    /** The request is malformed: unknown state, CREATED from an agent, a bad field. */
    INVALID_ARGUMENT,
    /** The update does not follow the row's chain: a step backwards, a gap, a stale chain. */
    INVALID_TRANSITION,
    /** A limit was exceeded (payload size, update rate, the store's write queue), or the store is closing: retry later. */
    RESOURCE_EXHAUSTED,
    /** A fault of the control plane itself. */
    INTERNAL,
    /** Another agent process took the row (a newer chain): this process must stop reporting; retrying cannot succeed. */
    SUPERSEDED
}
