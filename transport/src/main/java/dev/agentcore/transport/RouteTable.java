package dev.agentcore.transport;

import io.rsocket.Payload;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The routes a control plane serves, by interaction: a connection reads a request's route and
 * hands it to the route's handler here, or refuses it as unknown. Built once per server.
 */
final class RouteTable {

    /** What a handler knows of the connection a request came on. */
    interface Caller {
        Principal principal();

        /** The peer's address; null for a transport without one. */
        InetAddress source();

        ConnectionGate.Ticket ticket();

        /**
         * The connection's event loop. Signals for this connection that another connection's work
         * produces (a fence, a new build's manifest, a row change) are delivered here: the thread
         * that publishes a store change then only hands each one over, instead of running every
         * receiving connection's work itself, one after another.
         */
        Scheduler home();

        /**
         * This connection asks for the admin token's rotation: when the rotation ends the admin
         * connections, this one is not closed, so that the new token reaches it (it is refused
         * everything after that instead).
         */
        void rotatesTheAdminToken();
    }

    /** A request-response route: the request's data (a copy the handler may keep) in, one answer out. */
    interface ResponseRoute {
        Mono<Payload> respond(Caller caller, ByteBuffer data);
    }

    /** A request-stream route. */
    interface StreamRoute {
        Flux<Payload> stream(Caller caller, ByteBuffer data);
    }

    /**
     * A request-channel route: {@code opening} is the first payload (not to be released here),
     * {@code all} every payload from the first on, subscribed to at most once.
     */
    interface ChannelRoute {
        Flux<Payload> channel(Caller caller, Payload opening, Flux<Payload> all);
    }

    private final Map<String, ResponseRoute> responses;
    private final Map<String, StreamRoute> streams;
    private final Map<String, ChannelRoute> channels;

    private RouteTable(Builder builder) {
        this.responses = Map.copyOf(builder.responses);
        this.streams = Map.copyOf(builder.streams);
        this.channels = Map.copyOf(builder.channels);
    }

    static Builder builder() {
        return new Builder();
    }

    /** The handler of a request-response route; null if none. */
    ResponseRoute response(String route) {
        return route == null ? null : responses.get(route);
    }

    /** The handler of a request-stream route; null if none. */
    StreamRoute stream(String route) {
        return route == null ? null : streams.get(route);
    }

    /** The handler of a request-channel route; null if none. */
    ChannelRoute channel(String route) {
        return route == null ? null : channels.get(route);
    }

    /** Collects routes; a route is served by one handler per interaction. */
    static final class Builder {
        private final Map<String, ResponseRoute> responses = new HashMap<>();
        private final Map<String, StreamRoute> streams = new HashMap<>();
        private final Map<String, ChannelRoute> channels = new HashMap<>();

        Builder response(String route, ResponseRoute handler) {
            put(responses, route, handler);
            return this;
        }

        Builder stream(String route, StreamRoute handler) {
            put(streams, route, handler);
            return this;
        }

        Builder channel(String route, ChannelRoute handler) {
            put(channels, route, handler);
            return this;
        }

        private static <H> void put(Map<String, H> routes, String route, H handler) {
            if (routes.putIfAbsent(route, handler) != null) {
                throw new IllegalStateException("route " + route + " is served twice");
            }
        }

        RouteTable build() {
            return new RouteTable(this);
        }
    }
}
