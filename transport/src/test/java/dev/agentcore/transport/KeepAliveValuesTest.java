package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Keepalive values that cannot work are refused when they are made, naming the field. */
class KeepAliveValuesTest {

    @Test
    void theDefaultIsAFrameEveryFiveSecondsAndDeadAfterFifteen() {
        assertThat(KeepAlive.DEFAULT).isEqualTo(new KeepAlive(Duration.ofSeconds(5), Duration.ofSeconds(15)));
    }

    @Test
    void anIntervalBelowAMillisecondOrBeyondWhatSetupCarriesIsRefused() {
        assertThatThrownBy(() -> new KeepAlive(Duration.ZERO, Duration.ofSeconds(15)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("interval: must be from 1 ms");
        assertThatThrownBy(() -> new KeepAlive(Duration.ofSeconds(-1), Duration.ofSeconds(15)))
                .hasMessageStartingWith("interval:");
        assertThatThrownBy(() -> new KeepAlive(Duration.ofDays(30), Duration.ofDays(31)))
                .hasMessageStartingWith("interval:").hasMessageContaining("2147483647 ms");
    }

    @Test
    void aMaxLifetimeNotLongerThanTheIntervalIsRefused() {
        assertThatThrownBy(() -> new KeepAlive(Duration.ofSeconds(5), Duration.ofSeconds(5)))
                .hasMessageStartingWith("maxLifetime: must be longer than interval (PT5S)");
        assertThatThrownBy(() -> new KeepAlive(Duration.ofSeconds(5), Duration.ofSeconds(1)))
                .hasMessageStartingWith("maxLifetime:");
        assertThatThrownBy(() -> new KeepAlive(null, Duration.ofSeconds(1))).hasMessage("interval");
    }

    @Test
    void theConnectorsBuilderRefusesTheSameValues() {
        AgentConnector.Builder builder = AgentConnector.builder(ControlPlaneAddress.tcp("127.0.0.1", 7878), "identity");

        assertThatThrownBy(() -> builder.keepAlive(Duration.ofSeconds(5), Duration.ofSeconds(2)))
                .hasMessageStartingWith("maxLifetime:");
        assertThatThrownBy(() -> builder.backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessageStartingWith("max: must be at least initial");
    }
}
