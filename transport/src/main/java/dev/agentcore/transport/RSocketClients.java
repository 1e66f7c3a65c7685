package dev.agentcore.transport;

import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketConnector;
import io.rsocket.frame.decoder.PayloadDecoder;
import io.rsocket.util.DefaultPayload;
import java.nio.ByteBuffer;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** Connecting to a control plane and making routed requests: shared by the agent and admin clients. */
final class RSocketClients {

    private static final byte[] EMPTY = new byte[0];

    private RSocketClients() {
    }

    /** Connects with the token (if any) as bearer authentication in SETUP. */
    /** Connects with the default keepalive, watched on {@code Schedulers.parallel()}. */
    static Mono<RSocket> connect(ControlPlaneAddress address, String bearerToken) {
        return connect(address, bearerToken, KeepAlive.DEFAULT, Schedulers.parallel());
    }

    static Mono<RSocket> connect(ControlPlaneAddress address, String bearerToken, KeepAlive keepAlive,
                                 Scheduler scheduler) {
        return connect(address, bearerToken, keepAlive, new LivenessWatch(scheduler, keepAlive));
    }

    /** Connects, with {@code watch} closing the connection once the control plane falls silent. */
    static Mono<RSocket> connect(ControlPlaneAddress address, String bearerToken, KeepAlive keepAlive,
                                 LivenessWatch watch) {
        RSocketConnector connector = RSocketConnector.create()
                .metadataMimeType(WireMetadata.COMPOSITE)
                .dataMimeType(Routes.DATA_MIME_TYPE)
                .keepAlive(keepAlive.interval(), keepAlive.maxLifetime())
                .interceptors(registry -> registry.forConnection(watch))
                .payloadDecoder(PayloadDecoder.DEFAULT);
        if (bearerToken != null) {
            connector.setupPayload(DefaultPayload.create(EMPTY, WireMetadata.encode(null, bearerToken)));
        }
        if (address.tls() == null) {
            return connector.connect(address::clientTransport).onErrorMap(WireErrors::fromWire);
        }
        // TLS reads its PEM files (again on each connection, so renewed files are picked up): never
        // on the event loop or timer thread a reconnect runs on.
        return Mono.fromCallable(address::clientTransport).subscribeOn(Schedulers.boundedElastic())
                .flatMap(connector::connect)
                .onErrorMap(WireErrors::fromWire);
    }

    static Payload routed(String route, byte[] data) {
        return DefaultPayload.create(data, WireMetadata.encode(route, null));
    }

    static <T> Mono<T> requestResponse(RSocket rsocket, String route, byte[] data, Function<ByteBuffer, T> decoder) {
        return rsocket.requestResponse(routed(route, data))
                .map(payload -> decode(payload, decoder))
                .onErrorMap(WireErrors::fromWire);
    }

    static <T> Flux<T> requestStream(RSocket rsocket, String route, byte[] data, Function<ByteBuffer, T> decoder) {
        return rsocket.requestStream(routed(route, data))
                .map(payload -> decode(payload, decoder))
                .onErrorMap(WireErrors::fromWire);
    }

    static <T> T decode(Payload payload, Function<ByteBuffer, T> decoder) {
        try {
            return decoder.apply(payload.getData());
        } finally {
            payload.release();
        }
    }
}
