package dev.agentcore.core.internal;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * Internal, not part of agentcore's API: cryptographic randomness that never blocks.
 *
 * <p>A DRBG seeded once, when this class loads, then generating in memory. The default
 * {@code SecureRandom} (NativePRNG, also behind {@code UUID.randomUUID()}) reads /dev/urandom
 * through a FileInputStream on every call: a blocking call on whatever event-loop thread asks.
 */
public final class Randomness {

    private static final SecureRandom DRBG = seeded();

    private Randomness() {
    }

    /**
     * Seeds now, on the calling thread, if that was not done yet. Seeding reads the operating
     * system's entropy through a blocking file read: the services call this when they are built,
     * so that it never happens on the first event loop that asks for a secret or an id.
     */
    public static void seedNow() {
        // Nothing to do: calling a static method loads this class, which seeds DRBG.
    }

    /** {@code count} random bytes. */
    public static byte[] bytes(int count) {
        byte[] bytes = new byte[count];
        DRBG.nextBytes(bytes);
        return bytes;
    }

    private static SecureRandom seeded() {
        try {
            SecureRandom drbg = SecureRandom.getInstance("DRBG");
            drbg.nextBytes(new byte[16]); // seed now, not on first use
            return drbg;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java 9+ runtime has DRBG", e);
        }
    }
}
