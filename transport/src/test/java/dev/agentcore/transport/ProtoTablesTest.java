package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import dev.agentcore.core.LifecycleState;
import io.rsocket.exceptions.CustomRSocketException;
import org.junit.jupiter.api.Test;

/** The explicit number tables between core's enums and the wire's agree with agent.proto, name for name. */
class ProtoTablesTest {

    @Test
    void everyStateTravelsAsTheProtoStateOfItsName() {
        for (LifecycleState state : LifecycleState.values()) {
            dev.agentcore.transport.proto.v1.LifecycleState wire = ProtoCodec.state(state);
            assertThat(wire.name()).isEqualTo(state.name());
            assertThat(ProtoCodec.state(wire)).isEqualTo(state);
        }
        assertThatThrownBy(() -> ProtoCodec.state(dev.agentcore.transport.proto.v1.LifecycleState.LIFECYCLE_STATE_UNSPECIFIED))
                .isInstanceOfSatisfying(AgentcoreException.class,
                        refusal -> assertThat(refusal.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
    }

    @Test
    void everyErrorCodeTravelsAsTheProtoNumberOfItsName() {
        for (ErrorCode code : ErrorCode.values()) {
            int number = dev.agentcore.transport.proto.v1.ErrorCode.valueOf(code.name()).getNumber();
            assertThat(WireErrors.wireCode(code)).isEqualTo(WireErrors.FIRST_CUSTOM_CODE + number);
            Throwable back = WireErrors.fromWire(new CustomRSocketException(WireErrors.wireCode(code), code + ": why"));
            assertThat(back).isInstanceOfSatisfying(AgentcoreException.class, refusal -> {
                assertThat(refusal.code()).isEqualTo(code);
                assertThat(refusal.getMessage()).isEqualTo("why");
            });
        }
    }
}
