package dev.agentcore.cli;

import io.rsocket.Payload;
import io.rsocket.util.DefaultPayload;
import reactor.core.publisher.Flux;

/**
 * The benchmarks' transport baseline, which the control-plane command adds with the hidden
 * {@code --bench-echo}: a request-channel route for the admin that sends back every payload
 * after the opening one, untouched, with no decoding and no store.
 */
public final class BenchEcho {

    /** The route the echo is served on. */
    public static final String ROUTE = "bench.v1.echo";

    private BenchEcho() {
    }

    /** Echoes every payload after the first. */
    public static Flux<Payload> serve(Flux<Payload> payloads) {
        // Payloads arrive decoded onto the heap (PayloadDecoder.DEFAULT): wrapping their data copies nothing.
        return payloads.skip(1).map(payload -> DefaultPayload.create(payload.getData()));
    }
}
