package dev.agentcore.store;

import java.util.Arrays;

/**
 * What a store's writer has committed since it opened: transactions (batches), the writes in
 * them, how many batches had each size ({@code batchSizes[n]}: batches of n writes), and the
 * writer's time: from each batch's start to its commit ({@code committingNanos}), and publishing
 * each batch's rows and answering its callers ({@code answeringNanos}), which overlaps the next
 * batch's commit.
 * On H2 every batch is one forced sync of the file; on PostgreSQL, one commit.
 */
public record WriteStats(long batches, long writes, long[] batchSizes, long committingNanos, long answeringNanos) {

    public WriteStats {
        batchSizes = batchSizes.clone();
    }

    /** What was committed between {@code earlier} and this. */
    public WriteStats since(WriteStats earlier) {
        long[] sizes = batchSizes.clone();
        for (int size = 0; size < Math.min(sizes.length, earlier.batchSizes.length); size++) {
            sizes[size] -= earlier.batchSizes[size];
        }
        return new WriteStats(batches - earlier.batches, writes - earlier.writes, sizes,
                committingNanos - earlier.committingNanos, answeringNanos - earlier.answeringNanos);
    }

    /** The batch size at this fraction of the batches, smallest first (0.5: the median; 0.99: p99); 0 if none. */
    public int batchSizeAt(double fraction) {
        long rank = Math.max(1, (long) Math.ceil(fraction * batches));
        long seen = 0;
        for (int size = 1; size < batchSizes.length; size++) {
            seen += batchSizes[size];
            if (seen >= rank) {
                return size;
            }
        }
        return 0;
    }

    /**
     * One line: {@code batches writes size:count,... committingNanos answeringNanos} (sizes with no
     * batch left out); {@link #parse} reads it.
     */
    public String format() {
        StringBuilder sizes = new StringBuilder();
        for (int size = 1; size < batchSizes.length; size++) {
            if (batchSizes[size] > 0) {
                sizes.append(sizes.length() == 0 ? "" : ",").append(size).append(':').append(batchSizes[size]);
            }
        }
        return batches + " " + writes + " " + (sizes.length() == 0 ? "-" : sizes) + " " + committingNanos + " "
                + answeringNanos;
    }

    /** Reads what {@link #format} wrote. */
    public static WriteStats parse(String line) {
        String[] fields = line.strip().split(" ");
        if (fields.length != 5) {
            throw new IllegalArgumentException("expected 'batches writes size:count,... committingNanos answeringNanos', was '"
                    + line + "'");
        }
        long[] sizes = new long[0];
        if (!fields[2].equals("-")) {
            for (String entry : fields[2].split(",")) {
                int colon = entry.indexOf(':');
                int size = Integer.parseInt(entry.substring(0, colon));
                if (size >= sizes.length) {
                    sizes = Arrays.copyOf(sizes, size + 1);
                }
                sizes[size] = Long.parseLong(entry.substring(colon + 1));
            }
        }
        return new WriteStats(Long.parseLong(fields[0]), Long.parseLong(fields[1]), sizes, Long.parseLong(fields[3]),
                Long.parseLong(fields[4]));
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof WriteStats that && batches == that.batches && writes == that.writes
                && Arrays.equals(trimmed(batchSizes), trimmed(that.batchSizes))
                && committingNanos == that.committingNanos && answeringNanos == that.answeringNanos;
    }

    @Override
    public int hashCode() {
        return (Long.hashCode(batches) * 31 + Arrays.hashCode(trimmed(batchSizes))) * 31
                + Long.hashCode(committingNanos + answeringNanos);
    }

    @Override
    public String toString() {
        return "WriteStats[" + format() + "]";
    }

    private static long[] trimmed(long[] sizes) {
        int length = sizes.length;
        while (length > 0 && sizes[length - 1] == 0) {
            length--;
        }
        return Arrays.copyOf(sizes, length);
    }
}
