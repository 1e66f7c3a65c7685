package dev.agentcore.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AgentcoreExceptionTest {

    @Test
    void aRefusalCarriesItsCodeAndMessageButNoStackTrace() {
        AgentcoreException refusal = new AgentcoreException(ErrorCode.INVALID_TRANSITION, "seq 5 after 3");

        assertThat(refusal.code()).isEqualTo(ErrorCode.INVALID_TRANSITION);
        assertThat(refusal).hasToString("INVALID_TRANSITION: seq 5 after 3");
        assertThat(refusal.getStackTrace()).isEmpty();
        // What Reactor's block() adds still reaches it.
        refusal.addSuppressed(new IllegalStateException("where it was awaited"));
        assertThat(refusal.getSuppressed()).hasSize(1);
    }
}
