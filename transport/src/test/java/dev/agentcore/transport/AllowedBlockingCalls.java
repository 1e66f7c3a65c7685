package dev.agentcore.transport;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * The blocking calls BlockHound lets through in these tests, each a short JDK lock rather than
 * I/O: cancelling a scheduled task (rsocket-java's keepalive does, from the event loop) removes it
 * from ScheduledThreadPoolExecutor's queue under that queue's lock, which may park briefly; and
 * Netty 4.2's adaptive buffer allocator takes a StampedLock when it adds a magazine.
 */
public final class AllowedBlockingCalls implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.allowBlockingCallsInside("java.util.concurrent.ScheduledThreadPoolExecutor$DelayedWorkQueue", "remove");
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "tryExpandMagazines");
    }
}
