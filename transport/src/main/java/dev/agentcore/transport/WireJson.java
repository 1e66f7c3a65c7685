package dev.agentcore.transport;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.Workspace;

/**
 * The JSON form of agentcore's wire messages, made from the schema by protobuf's JsonFormat (field
 * names as in the .proto, 64-bit numbers as strings, timestamps in RFC 3339), so that tools print
 * what the wire carries. Needs {@code com.google.protobuf:protobuf-java-util}, an optional
 * dependency of this module, on the class path.
 */
public final class WireJson {

    private static final JsonFormat.Printer PRINTER = JsonFormat.printer()
            .preservingProtoFieldNames()
            .alwaysPrintFieldsWithNoPresence()
            .omittingInsignificantWhitespace();

    private WireJson() {
    }

    /** A row as an {@code AgentRow} message: one line of JSON. */
    public static String row(AgentRow row) {
        return print(ProtoCodec.rowMessage(row));
    }

    /** A workspace as a {@code WorkspaceDescription} message (never its identity): one line of JSON. */
    public static String workspace(Workspace workspace) {
        return print(ProtoCodec.workspaceMessage(workspace));
    }

    private static String print(MessageOrBuilder message) {
        try {
            return PRINTER.print(message);
        } catch (InvalidProtocolBufferException e) {
            // Only an Any with an unknown type fails to print, and agentcore's schema has none.
            throw new IllegalStateException("agentcore's own message did not print as JSON", e);
        }
    }
}
