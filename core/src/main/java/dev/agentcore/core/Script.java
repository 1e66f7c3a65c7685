package dev.agentcore.core;

import java.time.Duration;
import java.util.Objects;

/**
 * A script the agent runs at startup or shutdown, from the manifest.
 *
 * @param command the command line, run by a shell
 * @param timeout how long it may run before the agent reports a timeout
 * @param blocksLogin whether clients must wait for it before they log in
 */
public record Script(String command, Duration timeout, boolean blocksLogin) {

    public Script {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: must be positive, was " + timeout);
        }
    }
}
