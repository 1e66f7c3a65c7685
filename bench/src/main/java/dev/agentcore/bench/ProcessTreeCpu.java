package dev.agentcore.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * CPU time of a process tree that is not this JVM's child (PostgreSQL's postmaster and its
 * backends), from /proc: the process's own time, its reaped children's, and its live children's.
 */
final class ProcessTreeCpu {

    /** Linux reports these times in clock ticks of USER_HZ, 100 per second on every mainstream build. */
    private static final long TICKS_PER_SECOND = 100;

    private final long pid;

    ProcessTreeCpu(long pid) {
        this.pid = pid;
    }

    /** Reads the postmaster's pid from the first line of {@code postmaster.pid} in its data directory. */
    static ProcessTreeCpu ofPostgres(Path dataDirectory) throws IOException {
        return new ProcessTreeCpu(Long.parseLong(Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).strip()));
    }

    Duration cpu() {
        long ticks = ticks(pid, true);
        ticks += ProcessHandle.of(pid).stream().flatMap(ProcessHandle::children).mapToLong(child -> ticks(child.pid(), false)).sum();
        return Duration.ofMillis(ticks * 1000 / TICKS_PER_SECOND);
    }

    private static long ticks(long pid, boolean withReapedChildren) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // Fields after the command (which may hold spaces) start after the last ')'.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // utime, stime, cutime, cstime are fields 14-17 of stat: indexes 11-14 after the command.
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return withReapedChildren ? ticks + Long.parseLong(fields[13]) + Long.parseLong(fields[14]) : ticks;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
