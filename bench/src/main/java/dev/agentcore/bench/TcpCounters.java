package dev.agentcore.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The kernel's TCP counters for this host's network namespace ({@code /proc/net/snmp}), where Linux has them. */
final class TcpCounters {

    private static final Path SNMP = Path.of("/proc/net/snmp");

    private TcpCounters() {
    }

    /** TCP connections this host has opened (connect calls that sent a SYN) since boot; -1 where unknown. */
    static long activeOpens() {
        try {
            List<String> tcp = Files.readAllLines(SNMP).stream().filter(line -> line.startsWith("Tcp:")).toList();
            if (tcp.size() < 2) {
                return -1;
            }
            // Two lines: the field names, then their values, in the same order.
            List<String> names = List.of(tcp.get(0).split("\\s+"));
            String[] values = tcp.get(1).split("\\s+");
            int index = names.indexOf("ActiveOpens");
            return index < 0 || index >= values.length ? -1 : Long.parseLong(values[index]);
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
