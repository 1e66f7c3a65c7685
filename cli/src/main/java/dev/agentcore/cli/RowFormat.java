package dev.agentcore.cli;

import dev.agentcore.core.control.AgentRow;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/** Rows for people (one line each) and for scripts (JSON). */
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

    static String json(AgentRow row) {
        return "{\"agent_id\":" + quote(row.agentId().value())
                + ",\"workspace\":" + quote(row.workspace())
                + ",\"build_number\":" + row.buildNumber()
                + ",\"state\":" + quote(row.state().name())
                + ",\"active\":" + row.active()
                + ",\"created_at\":" + instant(row.createdAt())
                + ",\"started_at\":" + instant(row.startedAt())
                + ",\"ready_at\":" + instant(row.readyAt())
                + ",\"version\":" + row.version() + "}";
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
