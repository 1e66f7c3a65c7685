package dev.agentcore.cli;

import dev.agentcore.core.control.AgentRow;
import dev.agentcore.transport.WireJson;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/** Rows for people (one line each) and for scripts (the JSON of the schema). */
final class RowFormat {

    private RowFormat() {
    }

    static String text(AgentRow row) {
        StringBuilder line = new StringBuilder()
                .append("build ").append(row.buildNumber())
                .append("  ").append(String.format("%-16s", row.state()))
                .append(row.active() ? " active " : " retired")
                .append("  created ").append(row.createdAt());
        if (row.startedAt() != null) {
            line.append("  started +").append(human(Duration.between(row.createdAt(), row.startedAt())));
        }
        if (row.readyAt() != null) {
            line.append("  ready +").append(human(Duration.between(row.createdAt(), row.readyAt())));
        }
        return line.append("  row ").append(row.agentId()).toString();
    }

    /** The row as the schema's {@code AgentRow} message, in JSON (WireJson). */
    static String json(AgentRow row) {
        return WireJson.row(row);
    }

    static String json(List<AgentRow> rows) {
        return rows.stream().map(RowFormat::json).collect(Collectors.joining(",", "[", "]"));
    }

    static String human(Duration duration) {
        long millis = duration.toMillis();
        return millis < 10_000 ? String.format("%.3fs", millis / 1000.0) : String.format("%.1fs", millis / 1000.0);
    }

    private static String instant(Instant instant) {
        return instant == null ? "null" : quote(instant.toString());
    }

    static String quote(String text) {
        StringBuilder quoted = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> quoted.append("\\\"");
                case '\\' -> quoted.append("\\\\");
                case '\n' -> quoted.append("\\n");
                case '\r' -> quoted.append("\\r");
                case '\t' -> quoted.append("\\t");
                default -> {
                    if (c < 0x20) {
                        quoted.append(String.format("\\u%04x", (int) c));
                    } else {
                        quoted.append(c);
                    }
                }
            }
        }
        return quoted.append('"').toString();
    }
}
