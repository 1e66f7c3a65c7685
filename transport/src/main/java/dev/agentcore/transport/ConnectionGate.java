package dev.agentcore.transport;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * Admits connections and holds them to {@link ConnectionLimits}, so that peers who never
 * authenticate cannot take the slots (and file descriptors) of those who do.
 *
 * <p>Every connection is opened here the moment it is accepted, before a byte is read, and is
 * <em>pending</em> until a valid SETUP arrives: then it is <em>authenticated</em> (it carried a
 * token) or <em>anonymous</em> (it may only exchange an identity, a few times, for a short while).
 * Pending and anonymous connections count as unauthenticated: they have a cap of their own per
 * source address (past it a new one is refused) and in total (past it the oldest unauthenticated
 * connection of the source holding the most is evicted, so that idle strangers cannot keep an
 * agent from reaching its SETUP). The total
 * cap covers every connection; the difference between it and the unauthenticated cap is kept for
 * authenticated connections.
 *
 * <p>Counters are guarded by this gate's lock; refusals are carried out outside it. Timers run on
 * the injected scheduler, so the deadlines are testable in virtual time.
 */
final class ConnectionGate {

    /** Why a connection or stream was refused or closed: the {@code reason} tag of the refusal counter. */
    enum Refusal {
        CONNECTIONS, UNAUTHENTICATED_PER_ADDRESS, UNAUTHENTICATED_EVICTED, SETUP_TIMEOUT, KEEPALIVE,
        ANONYMOUS_IDLE, ANONYMOUS_LIFETIME, ANONYMOUS_EXCHANGES, STREAMS, REQUESTS;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    enum Stage { PENDING, ANONYMOUS, AUTHENTICATED }

    /** How the gate ends one connection: with a message the peer can read where the transport allows it. */
    interface Link {
        void close(String message, boolean beforeSetup);
    }

    private final ConnectionLimits limits;
    private final Scheduler scheduler;
    private final Map<Refusal, Counter> refusals = new EnumMap<>(Refusal.class);
    private final Map<Stage, int[]> open = new EnumMap<>(Stage.class);
    // Per source, in arrival order (the head is the oldest); the key is the InetAddress, or NO_ADDRESS.
    private final Map<Object, LinkedHashSet<Ticket>> unauthenticatedBySource = new HashMap<>();
    private final AtomicInteger lingering = new AtomicInteger();

    ConnectionGate(ConnectionLimits limits, Scheduler scheduler, MeterRegistry meters) {
        this.limits = limits;
        this.scheduler = scheduler;
        for (Refusal refusal : Refusal.values()) {
            refusals.put(refusal, Counter.builder("agentcore.connections.refused")
                    .description("Connections and streams refused or closed by the control plane's limits")
                    .tag("reason", refusal.tag()).register(meters));
        }
        for (Stage stage : Stage.values()) {
            int[] count = new int[1];
            open.put(stage, count);
            Gauge.builder("agentcore.connections.open", this, gate -> gate.count(stage))
                    .description("Connections open, by stage").tag("stage", stage.name().toLowerCase(Locale.ROOT))
                    .register(meters);
        }
    }

    ConnectionLimits limits() {
        return limits;
    }

    /** Admits a just-accepted connection, or refuses it (through {@code link}) and returns null. */
    Ticket open(InetAddress source, Link link) {
        Ticket ticket = new Ticket(source, link);
        Ticket evicted = null;
        String refusal = null;
        synchronized (this) {
            LinkedHashSet<Ticket> fromSource = unauthenticatedBySource.get(key(source));
            if (total() >= limits.maxConnections()) {
                refusal = refuse(Refusal.CONNECTIONS, "the control plane holds its limit of "
                        + limits.maxConnections() + " connections: retry later");
            } else if (source != null && fromSource != null && fromSource.size() >= limits.maxUnauthenticatedPerAddress()) {
                refusal = refuse(Refusal.UNAUTHENTICATED_PER_ADDRESS, source.getHostAddress() + " holds "
                        + limits.maxUnauthenticatedPerAddress() + " connections that have not authenticated: retry later");
            } else {
                if (unauthenticated() >= limits.maxUnauthenticated()) {
                    evicted = oldestOfTheBusiestSource();
                    release(evicted);
                    refusals.get(Refusal.UNAUTHENTICATED_EVICTED).increment();
                }
                open.get(Stage.PENDING)[0]++;
                unauthenticatedBySource.computeIfAbsent(key(source), ignored -> new LinkedHashSet<>()).add(ticket);
            }
        }
        if (evicted != null) {
            evicted.end("evicted: the control plane holds its limit of " + limits.maxUnauthenticated()
                    + " connections that have not authenticated");
        }
        if (refusal != null) {
            link.close(refusal, true);
            return null;
        }
        ticket.schedule(limits.setupTimeout().toMillis());
        return ticket;
    }

    /** Whether one more refused connection may linger to read its refusal; if so, call {@link #lingerEnded()} after. */
    boolean tryLinger() {
        if (lingering.incrementAndGet() > ConnectionLimits.MAX_LINGERING) {
            lingering.decrementAndGet();
            return false;
        }
        return true;
    }

    void lingerEnded() {
        lingering.decrementAndGet();
    }

    /**
     * The connection to evict for a new one: the oldest unauthenticated connection of the source
     * holding the most, so that strangers crowding in push out each other rather than an agent that
     * just connected from an address of its own. Holds the lock.
     */
    private Ticket oldestOfTheBusiestSource() {
        LinkedHashSet<Ticket> busiest = null;
        for (LinkedHashSet<Ticket> fromSource : unauthenticatedBySource.values()) {
            if (busiest == null || fromSource.size() > busiest.size()) {
                busiest = fromSource;
            }
        }
        return busiest.iterator().next();
    }

    private static final Object NO_ADDRESS = new Object();

    private static Object key(InetAddress source) {
        return source == null ? NO_ADDRESS : source;
    }

    void refused(Refusal refusal) {
        refusals.get(refusal).increment();
    }

    private String refuse(Refusal refusal, String message) {
        refusals.get(refusal).increment();
        return "RESOURCE_EXHAUSTED: " + message;
    }

    private synchronized int count(Stage stage) {
        return open.get(stage)[0];
    }

    /** Connections open now. Holds the lock. */
    private int total() {
        return open.get(Stage.PENDING)[0] + open.get(Stage.ANONYMOUS)[0] + open.get(Stage.AUTHENTICATED)[0];
    }

    /** Connections open now without a valid token yet: pending or anonymous. Holds the lock. */
    private int unauthenticated() {
        return open.get(Stage.PENDING)[0] + open.get(Stage.ANONYMOUS)[0];
    }

    /** Takes the ticket out of every count; false if it was out already. Holds the lock. */
    private boolean release(Ticket ticket) {
        if (ticket.released) {
            return false;
        }
        ticket.released = true;
        open.get(ticket.stage)[0]--;
        if (ticket.stage != Stage.AUTHENTICATED) {
            forgetUnauthenticated(ticket);
        }
        return true;
    }

    private void forgetUnauthenticated(Ticket ticket) {
        LinkedHashSet<Ticket> fromSource = unauthenticatedBySource.get(key(ticket.source));
        if (fromSource != null && fromSource.remove(ticket)) {
            if (fromSource.isEmpty()) {
                unauthenticatedBySource.remove(key(ticket.source));
            }
        }
    }

    /** One admitted connection's place in the gate. */
    final class Ticket {

        private final InetAddress source;
        private final Link link;
        // Guarded by the gate's lock.
        // Written under the gate's lock; volatile so that requests on a connection read it without it.
        private volatile Stage stage = Stage.PENDING;
        private boolean released;
        private Disposable timer;
        private int exchanges;
        private int inFlight;
        private long lastActive;
        private long endOfLife;

        private Ticket(InetAddress source, Link link) {
            this.source = source;
            this.link = link;
        }

        /**
         * A valid SETUP arrived: the connection is now anonymous or authenticated. False if the
         * gate already ended it (its SETUP deadline passed, or it was evicted).
         */
        boolean established(Stage next) {
            synchronized (ConnectionGate.this) {
                if (released || stage != Stage.PENDING) {
                    return false;
                }
                open.get(stage)[0]--;
                open.get(next)[0]++;
                stage = next;
                if (next == Stage.AUTHENTICATED) {
                    forgetUnauthenticated(this);
                }
                cancelTimer();
                if (next == Stage.ANONYMOUS) {
                    long now = now();
                    lastActive = now;
                    endOfLife = now + limits.anonymousLifetime().toMillis();
                }
            }
            if (next == Stage.ANONYMOUS) {
                schedule(Math.min(limits.anonymousIdle().toMillis(), limits.anonymousLifetime().toMillis()));
            }
            return true;
        }

        /** Counts one identity exchange; false past the anonymous limit. */
        boolean tryExchange() {
            synchronized (ConnectionGate.this) {
                if (stage != Stage.ANONYMOUS || exchanges < limits.anonymousExchanges()) {
                    exchanges++;
                    return true;
                }
            }
            refusals.get(Refusal.ANONYMOUS_EXCHANGES).increment();
            return false;
        }

        /** A request started on this connection: an anonymous connection is not idle while it runs. */
        void requestStarted() {
            if (stage != Stage.ANONYMOUS) {
                return; // only a token-less connection's idle time is watched
            }
            synchronized (ConnectionGate.this) {
                inFlight++;
                lastActive = now();
            }
        }

        void requestEnded() {
            if (stage != Stage.ANONYMOUS) {
                return;
            }
            synchronized (ConnectionGate.this) {
                inFlight--;
                lastActive = now();
            }
        }

        /** The connection closed, whoever closed it. */
        void closed() {
            synchronized (ConnectionGate.this) {
                cancelTimer();
                release(this);
            }
        }

        private void end(String message) {
            boolean beforeSetup;
            synchronized (ConnectionGate.this) {
                cancelTimer();
                release(this);
                beforeSetup = stage == Stage.PENDING;
            }
            link.close(message, beforeSetup);
        }

        private void schedule(long delayMillis) {
            synchronized (ConnectionGate.this) {
                if (!released) {
                    timer = scheduler.schedule(this::deadline, Math.max(0, delayMillis), TimeUnit.MILLISECONDS);
                }
            }
        }

        private void cancelTimer() {
            if (timer != null) {
                timer.dispose();
                timer = null;
            }
        }

        /** The timer fired: end the connection if it outstayed its stage, else look again later. */
        private void deadline() {
            Refusal reason = null;
            long again = 0;
            synchronized (ConnectionGate.this) {
                timer = null;
                if (released) {
                    return;
                }
                long now = now();
                if (stage == Stage.PENDING) {
                    reason = Refusal.SETUP_TIMEOUT;
                } else if (stage == Stage.ANONYMOUS) {
                    long idleEnds = lastActive + limits.anonymousIdle().toMillis();
                    if (now >= endOfLife) {
                        reason = Refusal.ANONYMOUS_LIFETIME;
                    } else if (inFlight == 0 && now >= idleEnds) {
                        reason = Refusal.ANONYMOUS_IDLE;
                    } else {
                        again = Math.min(endOfLife, inFlight == 0 ? idleEnds : now + limits.anonymousIdle().toMillis()) - now;
                    }
                } else {
                    return;
                }
            }
            if (reason == null) {
                schedule(again);
                return;
            }
            refusals.get(reason).increment();
            end(switch (reason) {
                case SETUP_TIMEOUT -> "INVALID_ARGUMENT: no SETUP frame within " + limits.setupTimeout().toMillis() + " ms";
                case ANONYMOUS_IDLE -> "RESOURCE_EXHAUSTED: a connection without a token is closed after "
                        + limits.anonymousIdle().toMillis() + " ms without a request";
                default -> "RESOURCE_EXHAUSTED: a connection without a token lives at most "
                        + limits.anonymousLifetime().toMillis() + " ms";
            });
        }
    }

    private long now() {
        return scheduler.now(TimeUnit.MILLISECONDS);
    }
}
