package dev.agentcore.cli;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The control plane's HTTP port: {@code GET /metrics} (Prometheus text format), {@code GET
 * /healthz} (the process answers), {@code GET /readyz} (ready to serve agents: its listeners
 * are bound and its store answers) and the {@link Dashboard} ({@code /}, its API behind the admin
 * token). Plain HTTP.
 */
final class HttpEndpoints {

    /** What /metrics answers with: Prometheus's text exposition format. */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    /** How long /readyz waits for the store's answer before it says not ready. */
    static final Duration READINESS_TIMEOUT = Duration.ofSeconds(2);

    private final PrometheusMeterRegistry meters;
    private final Supplier<Mono<Void>> readiness;
    private final Dashboard dashboard;

    /**
     * @param readiness completes when the control plane is ready; errors, with the reason as its
     *                  message, when it is not
     */
    HttpEndpoints(PrometheusMeterRegistry meters, Supplier<Mono<Void>> readiness, Dashboard dashboard) {
        this.meters = meters;
        this.readiness = readiness;
        this.dashboard = dashboard;
    }

    /** Binds the port; emits the bound server. */
    Mono<? extends DisposableServer> bind(String host, int port) {
        return HttpServer.create().host(host).port(port).handle(this::handle).bind();
    }

    private Publisher<Void> handle(HttpServerRequest request, HttpServerResponse response) {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        String path = uri.path();
        boolean known = path.equals("/metrics") || path.equals("/healthz") || path.equals("/readyz") || Dashboard.serves(path);
        if (!known) {
            return text(response, HttpResponseStatus.NOT_FOUND,
                    "not found: " + path + " (try /, /metrics, /healthz, /readyz)");
        }
        if (!request.method().name().equals("GET") && !request.method().name().equals("HEAD")) {
            response.header("Allow", "GET, HEAD");
            return text(response, HttpResponseStatus.METHOD_NOT_ALLOWED, path + " answers GET only");
        }
        if (Dashboard.serves(path)) {
            return dashboard.handle(uri, request, response);
        }
        return switch (path) {
            case "/metrics" -> response.status(HttpResponseStatus.OK).header("Content-Type", PROMETHEUS_TEXT)
                    .sendString(Mono.fromCallable(meters::scrape), StandardCharsets.UTF_8).then();
            case "/healthz" -> text(response, HttpResponseStatus.OK, "ok");
            default -> readiness.get()
                    .timeout(READINESS_TIMEOUT, Mono.error(() -> new IllegalStateException(
                            "the store did not answer within " + READINESS_TIMEOUT.toSeconds() + " s")))
                    .then(Mono.defer(() -> text(response, HttpResponseStatus.OK, "ready")))
                    .onErrorResume(notReady -> text(response, HttpResponseStatus.SERVICE_UNAVAILABLE,
                            "not ready: " + ErrorMessages.describe(notReady)));
        };
    }

    static Mono<Void> text(HttpServerResponse response, HttpResponseStatus status, String body) {
        return response.status(status).header("Content-Type", "text/plain; charset=utf-8")
                .sendString(Mono.just(body + "\n"), StandardCharsets.UTF_8).then();
    }
}
