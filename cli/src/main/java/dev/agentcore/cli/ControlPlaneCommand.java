package dev.agentcore.cli;

import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentStore;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.InMemoryWorkspaceStore;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.WorkspaceStore;
import dev.agentcore.store.R2dbcAgentStore;
import dev.agentcore.transport.ControlPlaneServer.RunningControlPlane;
import dev.agentcore.transport.ControlPlaneServer;
import dev.agentcore.transport.ServerTls;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;

@Command(name = "control-plane", mixinStandardHelpOptions = true,
        description = {"Runs the reference control plane until SIGINT or SIGTERM.",
                "On first start it writes an admin token to <data dir>/admin.token (mode 600), unless "
                        + Secrets.ADMIN_TOKEN + " gives one.",
                "Secrets from the environment: " + Secrets.STORE_URL + " (the store URL), " + Secrets.ADMIN_TOKEN + "."})
final class ControlPlaneCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(ControlPlaneCommand.class);

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7878",
            description = "RSocket over TCP. Port 0 picks a free port. Default: ${DEFAULT-VALUE}.")
    String listen;

    @Option(names = "--ws-listen", paramLabel = "HOST:PORT", description = "Also RSocket over WebSocket.")
    String websocketListen;

    @Option(names = "--http-listen", paramLabel = "HOST:PORT",
            description = "Also serve HTTP here: /metrics (Prometheus), /healthz and /readyz. Off unless given.")
    String httpListen;

    @Option(names = "--store", paramLabel = "URL",
            description = {"Where rows live: h2 (the embedded H2 file in the data dir, the default), mem (in memory, "
                    + "forgotten on exit), or an R2DBC URL such as r2dbc:postgresql://user@host:5432/db "
                    + "(several replicas may share one PostgreSQL). A URL with a password belongs in "
                    + Secrets.STORE_URL + " or --store-file, not here: a command line is visible to every user "
                    + "of the host."})
    String store;

    @Option(names = "--store-file", paramLabel = "FILE",
            description = "File holding the store URL (instead of --store or " + Secrets.STORE_URL + ").")
    Path storeFile;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "agentcore-data",
            description = "The H2 file and the admin token. Default: ${DEFAULT-VALUE}.")
    Path dataDir;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate chain for TLS on every listener (with --tls-key); clients then use "
                    + "tls:// and wss:// addresses.")
    Path tlsCertificate;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PKCS#8 PEM private key of --tls-cert.")
    Path tlsKey;

    @Option(names = "--tls-client-ca", paramLabel = "FILE",
            description = "Mutual TLS: PEM certificates that issue the client certificates accepted; a client "
                    + "without one is refused during the handshake.")
    Path tlsClientIssuers;

    @Option(names = "--update-rate", paramLabel = "PER_SECOND", defaultValue = "50",
            description = "Lifecycle updates one session may send per second, sustained. Default: ${DEFAULT-VALUE}.")
    int updateRate;

    @Option(names = "--update-burst", paramLabel = "N", defaultValue = "100",
            description = "Lifecycle updates one session may send at once. Default: ${DEFAULT-VALUE}.")
    int updateBurst;

    @Mixin
    ConnectionLimitOptions limits;

    /** What starts each line of {@code --bench-write-stats} (the benchmark's ControlPlaneProcess reads it). */
    static final String WRITE_STATS_PREFIX = "agentcore store writes: ";

    @Option(names = "--bench-echo", hidden = true,
            description = "Serve the bench.v1.echo route to the admin (the benchmarks' transport baseline, BenchEcho).")
    boolean benchEcho;

    @Option(names = "--bench-write-stats", hidden = true,
            description = "Print the store writer's totals on stdout five times a second (for the benchmarks).")
    boolean benchWriteStats;

    @Override
    public Integer call() throws Exception {
        if (updateRate < 1 || updateBurst < 1) {
            throw new CommandFailure("--update-rate and --update-burst must be positive", ExitCodes.USAGE);
        }
        String store = storeUrl(Secrets.fromProcess());
        Files.createDirectories(dataDir);
        Path adminTokenFile = dataDir.resolve("admin.token");
        Optional<String> givenAdminToken = givenAdminToken(Secrets.fromProcess(), adminTokenFile);
        AgentStore rows;
        WorkspaceStore workspaces;
        R2dbcAgentStore durable = null;
        if ("mem".equals(store)) {
            rows = new InMemoryAgentStore();
            workspaces = new InMemoryWorkspaceStore();
        } else {
            try {
                durable = "h2".equals(store)
                        ? R2dbcAgentStore.openH2File(dataDir).block(Duration.ofSeconds(60))
                        : R2dbcAgentStore.open(store).block(Duration.ofSeconds(60));
            } catch (RuntimeException e) {
                // A driver's message may quote the URL it was given, password and all.
                throw new CommandFailure("cannot open the store " + Secrets.redacted(store) + ": "
                        + Secrets.scrubbed(ErrorMessages.describe(e), store));
            }
            rows = durable;
            workspaces = durable;
        }
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        if (durable != null) {
            durable.bindTo(meters);
        }
        LifecycleService lifecycle = LifecycleService.builder(rows).meterRegistry(meters).build();
        AccessService access = new AccessService(rows, workspaces);
        ControlPlaneServer.Builder builder = ControlPlaneServer.builder(lifecycle, access)
                .meterRegistry(meters)
                .updateRateLimit(updateRate, updateBurst);
        if (givenAdminToken.isPresent()) {
            builder.adminToken(givenAdminToken.get()); // the server makes it the deployment's if the store has none
        } else {
            writeFirstAdminToken(access, adminTokenFile);
        }
        if (benchEcho) {
            builder.adminChannelRoute(BenchEcho.ROUTE, BenchEcho::serve);
        }
        limits.applyTo(builder);
        ServerTls tls = tls();
        if (tls != null) {
            builder.tls(tls);
        }
        String[] tcp = hostPort(listen, "--listen");
        builder.tcp(tcp[0], Integer.parseInt(tcp[1]));
        if (websocketListen != null) {
            String[] ws = hostPort(websocketListen, "--ws-listen");
            builder.websocket(ws[0], Integer.parseInt(ws[1]));
        }
        ControlPlaneServer server;
        try {
            server = builder.build();
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(e.getMessage()); // TLS files that cannot be used, named
        }
        RunningControlPlane running = server.start().block(Duration.ofSeconds(30));
        System.out.println("agentcore control plane listening on " + (tls == null ? "tcp://" : "tls://")
                + hostForAddress(running.tcpAddress().getHostString()) + ":" + running.tcpAddress().getPort());
        if (websocketListen != null) {
            System.out.println("agentcore control plane listening on " + (tls == null ? "ws://" : "wss://")
                    + hostForAddress(running.websocketAddress().getHostString()) + ":" + running.websocketAddress().getPort());
        }
        DisposableServer http = null;
        if (httpListen != null) {
            http = serveHttp(meters, running, durable, store, lifecycle, access);
            System.out.println("agentcore control plane serving metrics, health and the dashboard on http://"
                    + hostForAddress(((InetSocketAddress) http.address()).getHostString()) + ":" + http.port());
        }
        System.out.flush();
        if (benchWriteStats && durable != null) {
            R2dbcAgentStore measured = durable;
            // The benchmark harness reads these lines; it takes the differences per phase.
            Flux.interval(Duration.ofMillis(200)).map(tick -> measured.writeStats().format()).distinctUntilChanged()
                    .subscribe(line -> {
                        System.out.println(WRITE_STATS_PREFIX + line);
                        System.out.flush();
                    });
        }

        CountDownLatch stopped = new CountDownLatch(1);
        R2dbcAgentStore toClose = durable;
        DisposableServer httpToClose = http;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping: closing sessions and listeners");
            if (httpToClose != null) {
                httpToClose.disposeNow(Duration.ofSeconds(10));
            }
            running.disposeNow(Duration.ofSeconds(10));
            if (toClose != null) {
                toClose.close().block(Duration.ofSeconds(10));
            }
            stopped.countDown();
        }, "agentcore-shutdown"));
        stopped.await();
        return ExitCodes.OK;
    }

    /** Binds --http-listen (metrics, health, the dashboard), the JVM's meters added to the control plane's. */
    private DisposableServer serveHttp(PrometheusMeterRegistry meters, RunningControlPlane running,
                                       R2dbcAgentStore durable, String storeUrl, LifecycleService lifecycle,
                                       AccessService access) {
        new ClassLoaderMetrics().bindTo(meters);
        new JvmMemoryMetrics().bindTo(meters);
        new JvmGcMetrics().bindTo(meters); // lives as long as the process: never closed
        new JvmThreadMetrics().bindTo(meters);
        new ProcessorMetrics().bindTo(meters);
        new UptimeMetrics().bindTo(meters);
        Supplier<Mono<Void>> readiness = () -> {
            if (!running.listening()) {
                return Mono.error(new IllegalStateException("the control plane's listeners are closed"));
            }
            return durable == null ? Mono.empty() : durable.ping().onErrorMap(unreachable -> new IllegalStateException(
                    "the store does not answer: " + Secrets.scrubbed(ErrorMessages.describe(unreachable), storeUrl)));
        };
        String[] address = hostPort(httpListen, "--http-listen");
        try {
            Dashboard dashboard = new Dashboard(lifecycle, access, running);
            return new HttpEndpoints(meters, readiness, dashboard).bind(address[0], Integer.parseInt(address[1]))
                    .block(Duration.ofSeconds(30));
        } catch (RuntimeException e) {
            throw new CommandFailure("--http-listen " + httpListen + ": " + ErrorMessages.describe(e));
        }
    }

    /** TLS from --tls-cert, --tls-key and --tls-client-ca; null without them. */
    private ServerTls tls() {
        if ((tlsCertificate == null) != (tlsKey == null)) {
            throw new CommandFailure("--tls-cert and --tls-key go together", ExitCodes.USAGE);
        }
        if (tlsCertificate == null) {
            if (tlsClientIssuers != null) {
                throw new CommandFailure("--tls-client-ca needs --tls-cert and --tls-key", ExitCodes.USAGE);
            }
            return null;
        }
        ServerTls tls = ServerTls.of(tlsCertificate, tlsKey);
        return tlsClientIssuers == null ? tls : tls.requiringClientCertificates(tlsClientIssuers);
    }

    /** An IPv6 host in brackets, as addresses are written. */
    static String hostForAddress(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    /** The store URL: --store, else --store-file, else the environment, else h2. */
    private String storeUrl(Secrets secrets) {
        if (store != null && storeFile != null) {
            throw new CommandFailure("--store and --store-file both name the store: give one", ExitCodes.USAGE);
        }
        if (store != null) {
            if (Secrets.holdsPassword(store)) {
                log.warn("--store holds a password, which every user of this host can read in the process list: "
                        + "put the URL in {} or a file given with --store-file", Secrets.STORE_URL);
            }
            return store;
        }
        if (storeFile != null) {
            return Secrets.fromFile(storeFile, "store URL", "");
        }
        return secrets.fromEnvironment(Secrets.STORE_URL).orElse("h2");
    }

    /**
     * The admin token this control plane was given: from the environment when set, else the data
     * dir's file if there is one. It becomes the deployment's if the store has none yet.
     */
    private static Optional<String> givenAdminToken(Secrets secrets, Path file) throws IOException {
        Optional<String> fromEnvironment = secrets.fromEnvironment(Secrets.ADMIN_TOKEN);
        if (fromEnvironment.isPresent()) {
            log.info("admin token: from {}", Secrets.ADMIN_TOKEN);
            return fromEnvironment;
        }
        if (Files.exists(file)) {
            log.info("admin token: {}", file.toAbsolutePath());
            return Optional.of(Files.readString(file).strip());
        }
        return Optional.empty();
    }

    /**
     * Without a given token: the deployment's stays, if another control plane on this store set it
     * (no file is written); else a new one is set and written to {@code file} (mode 600).
     */
    private static void writeFirstAdminToken(AccessService access, Path file) {
        String token = AccessService.newSecret();
        if (!Boolean.TRUE.equals(access.initializeAdminToken(token).block(Duration.ofSeconds(30)))) {
            log.info("admin token: the deployment's, which another control plane on this store set (its data dir's "
                    + "admin.token, or the token 'admin rotate-token' printed)");
            return;
        }
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, token + "\n", StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new CommandFailure("could not write the new admin token to " + file + ": " + ErrorMessages.describe(e));
        }
        log.info("wrote a new admin token to {} (mode 600)", file.toAbsolutePath());
    }

    /** HOST:PORT, an IPv6 host in brackets ([::1]:7878), split in host (without brackets) and port. */
    static String[] hostPort(String text, String option) {
        int colon = text.lastIndexOf(':');
        String host = colon <= 0 ? "" : text.substring(0, colon);
        boolean bracketed = host.startsWith("[") && host.endsWith("]") && host.length() > 2;
        if (colon <= 0 || colon == text.length() - 1 || !text.substring(colon + 1).chars().allMatch(Character::isDigit)
                || (host.contains(":") && !bracketed)) {
            throw new CommandFailure(option + ": expected HOST:PORT (an IPv6 host in brackets: [::1]:7878), was '"
                    + text + "'", ExitCodes.USAGE);
        }
        return new String[] {bracketed ? host.substring(1, host.length() - 1) : host, text.substring(colon + 1)};
    }
}
