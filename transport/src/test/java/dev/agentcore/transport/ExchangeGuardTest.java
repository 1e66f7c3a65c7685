package dev.agentcore.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The per-source limit on failed identity exchanges, on a time source the test moves. */
class ExchangeGuardTest {

    private final AtomicLong nanos = new AtomicLong(42);

    @Test
    void aSourceThatSpentItsBurstIsRefusedUntilItsBudgetRefills() throws UnknownHostException {
        ExchangeGuard guard = new ExchangeGuard(nanos::get, 1, 3);
        InetAddress guesser = address(1);

        for (int failure = 0; failure < 3; failure++) {
            assertThat(guard.allows(guesser)).isTrue();
            guard.failed(guesser);
        }

        assertThat(guard.allows(guesser)).isFalse();
        assertThat(guard.allows(address(2))).as("another source").isTrue();
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(999));
        assertThat(guard.allows(guesser)).isFalse();
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
        assertThat(guard.allows(guesser)).as("one failure's worth after a second").isTrue();
        guard.failed(guesser);
        assertThat(guard.allows(guesser)).isFalse();
    }

    @Test
    void aSourceWhoseBudgetRefilledIsForgotten() throws UnknownHostException {
        ExchangeGuard guard = new ExchangeGuard(nanos::get, 2, 4);
        guard.failed(address(1));
        assertThat(guard.trackedSources()).isOne();

        nanos.addAndGet(TimeUnit.SECONDS.toNanos(2)); // 4 at 2 per second

        assertThat(guard.trackedSources()).isZero();
        assertThat(guard.allows(address(1))).isTrue();
    }

    @Test
    void aMillionDistinctFailingSourcesLeaveTheTableBounded() {
        ExchangeGuard guard = new ExchangeGuard(nanos::get, 1, 20);
        // Time stands still: no budget refills, so nothing leaves the table by expiring. Before it
        // was bounded, each failure past 100,000 sources scanned the whole table; a million took hours.
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int source = 0; source < 1_000_000; source++) {
                guard.failed(address(source));
            }
        });

        assertThat(guard.trackedSources()).isLessThanOrEqualTo(ExchangeGuard.MAX_TRACKED_SOURCES);
    }

    /** 10.x.y.z, distinct for each n below 2^24. */
    private static InetAddress address(int n) throws UnknownHostException {
        return InetAddress.getByAddress(new byte[] {10, (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
    }
}
