package dev.agentcore.store;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AgentRow;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The payload of a row-change NOTIFY: the writing replica and the whole row, so that listeners
 * need no query per change and a replica can skip its own writes (already published locally).
 * Text fields are URL-encoded, so neither ';' nor the row separator '|' appears inside one; a
 * payload carries one row or several (a whole batch's, joined by '|'). An older replica's payload
 * (the bare row id) still parses: as a row id to read.
 */
final class RowNotification {

    private static final String VERSION = "v1";
    /** Between the rows of one payload. */
    static final String SEPARATOR = "|";

    /** A decoded payload: whose write it was, and the row if the payload carried it. */
    record Decoded(String replica, AgentId agentId, Optional<AgentRow> row) {
    }

    private RowNotification() {
    }

    static String encode(String replica, AgentRow row) {
        return String.join(";", VERSION, replica, text(row.agentId().value()), text(row.workspace()),
                Long.toString(row.buildNumber()), Long.toString(R2dbcAgentStore.nanos(row.createdAt())),
                row.state().name(), nanos(row.startedAt()), nanos(row.readyAt()),
                row.lastChain() == null ? "" : text(row.lastChain().incarnation()),
                row.lastChain() == null ? "" : Long.toString(row.lastChain().generation()),
                Long.toString(row.lastSeq()), row.active() ? "1" : "0", row.buildDurationRecorded() ? "1" : "0",
                Long.toString(row.version()), Long.toString(row.scriptsRevision()));
    }

    /** Whether the payload is {@code replica}'s own (all the rows of one payload come from one batch). */
    static boolean isFrom(String replica, String payload) {
        return payload.startsWith(VERSION + ";" + replica + ";");
    }

    /** Every row a payload carries. */
    static List<Decoded> decodeAll(String payload) {
        return Stream.of(payload.split(Pattern.quote(SEPARATOR))).map(RowNotification::decode).toList();
    }

    static Decoded decode(String payload) {
        String[] fields = payload.split(";", -1);
        // 16 fields; 15 from a replica older than scripts revisions, whose rows all carry revision 1.
        if (fields.length < 15 || fields.length > 16 || !fields[0].equals(VERSION)) {
            return new Decoded("", AgentId.of(payload), Optional.empty());
        }
        AgentId agentId = AgentId.of(untext(fields[2]));
        ChainId chain = fields[9].isEmpty() ? null : new ChainId(untext(fields[9]), Long.parseLong(fields[10]));
        AgentRow row = new AgentRow(agentId, untext(fields[3]), Long.parseLong(fields[4]), instant(fields[5]),
                LifecycleState.valueOf(fields[6]), instant(fields[7]), instant(fields[8]), chain,
                Long.parseLong(fields[11]), fields[12].equals("1"), fields[13].equals("1"), Long.parseLong(fields[14]),
                fields.length == 16 ? Long.parseLong(fields[15]) : 1);
        return new Decoded(fields[1], agentId, Optional.of(row));
    }

    private static String text(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static String untext(String value) {
        return URLDecoder.decode(value, StandardCharsets.UTF_8);
    }

    private static String nanos(Instant instant) {
        return instant == null ? "" : Long.toString(R2dbcAgentStore.nanos(instant));
    }

    private static Instant instant(String nanos) {
        return nanos.isEmpty() ? null : Instant.ofEpochSecond(0, Long.parseLong(nanos));
    }
}
