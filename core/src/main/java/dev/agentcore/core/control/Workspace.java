package dev.agentcore.core.control;

import dev.agentcore.core.Script;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A workspace as the control plane defines it: its name and what its agent runs.
 *
 * @param name unique; letters, digits, '.', '_' and '-', 1 to 64 characters
 * @param agentName a name for the workspace's agent, for people
 * @param startupScripts run by the agent when it starts
 * @param shutdownScripts run by the agent when it shuts down
 */
public record Workspace(String name, String agentName, List<Script> startupScripts, List<Script> shutdownScripts) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public Workspace {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(agentName, "agentName");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name: 1 to 64 letters, digits, '.', '_' or '-', was '" + name + "'");
        }
        startupScripts = List.copyOf(startupScripts);
        shutdownScripts = List.copyOf(shutdownScripts);
    }

    /** A workspace whose agent runs no scripts. */
    public static Workspace named(String name) {
        return new Workspace(name, name + "-agent", List.of(), List.of());
    }
}
