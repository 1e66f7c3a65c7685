package dev.agentcore.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where the command line reads secrets from, so that none has to be on a command line (where
 * {@code ps} shows it to every user of the host): an environment variable, or a file. The
 * value itself never appears in an error message or a log line.
 */
final class Secrets {

    /** The store URL, which may hold the database password. */
    static final String STORE_URL = "AGENTCORE_STORE_URL";
    /** The admin token. */
    static final String ADMIN_TOKEN = "AGENTCORE_ADMIN_TOKEN";
    /** A workspace's instance identity, for the agent. */
    static final String IDENTITY = "AGENTCORE_IDENTITY";

    private final Map<String, String> environment;

    Secrets(Map<String, String> environment) {
        this.environment = environment;
    }

    static Secrets fromProcess() {
        return new Secrets(System.getenv());
    }

    /** The variable's value, stripped, if it is set and not blank. */
    Optional<String> fromEnvironment(String variable) {
        String value = environment.get(variable);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
    }

    /** The file's content, stripped; {@code what} names the secret in the error if it cannot be read or is empty. */
    static String fromFile(Path file, String what, String hint) {
        String value;
        try {
            value = Files.readString(file).strip();
        } catch (IOException e) {
            throw new CommandFailure("cannot read the " + what + " from " + ErrorMessages.unreadable(file, e)
                    + (hint.isEmpty() ? "" : ": " + hint));
        }
        if (value.isEmpty()) {
            throw new CommandFailure("cannot read the " + what + " from " + ErrorMessages.oneLine(file.toString())
                    + ": the file is empty" + (hint.isEmpty() ? "" : "; " + hint));
        }
        return value;
    }

    /** Whether an R2DBC URL carries a password in its user information ({@code user:password@host}). */
    static boolean holdsPassword(String url) {
        int scheme = url.indexOf("://");
        if (scheme < 0) {
            return url.contains("password=");
        }
        int at = url.indexOf('@', scheme + 3);
        int slash = url.indexOf('/', scheme + 3);
        boolean inUserInfo = at > 0 && (slash < 0 || at < slash) && url.substring(scheme + 3, at).contains(":");
        return inUserInfo || url.contains("password=");
    }

    /** The URL with any password replaced by {@code ***}: what may be shown of it. */
    static String redacted(String url) {
        String shown = url.replaceAll("(password=)[^&;]*", "$1***");
        int scheme = shown.indexOf("://");
        if (scheme < 0) {
            return shown;
        }
        int at = shown.indexOf('@', scheme + 3);
        int slash = shown.indexOf('/', scheme + 3);
        if (at > 0 && (slash < 0 || at < slash)) {
            int colon = shown.indexOf(':', scheme + 3);
            if (colon > 0 && colon < at) {
                shown = shown.substring(0, colon + 1) + "***" + shown.substring(at);
            }
        }
        return shown;
    }

    /** {@code text} with the URL, and its password wherever else it appears, shown redacted. */
    static String scrubbed(String text, String url) {
        String scrubbed = text.replace(url, redacted(url));
        String password = passwordOf(url);
        return password.isEmpty() ? scrubbed : scrubbed.replace(password, "***");
    }

    private static String passwordOf(String url) {
        java.util.regex.Matcher parameter = java.util.regex.Pattern.compile("password=([^&;]*)").matcher(url);
        if (parameter.find()) {
            return parameter.group(1);
        }
        int scheme = url.indexOf("://");
        if (scheme < 0) {
            return "";
        }
        int at = url.indexOf('@', scheme + 3);
        int slash = url.indexOf('/', scheme + 3);
        int colon = url.indexOf(':', scheme + 3);
        return at > 0 && (slash < 0 || at < slash) && colon > 0 && colon < at ? url.substring(colon + 1, at) : "";
    }
}
