package dev.agentcore.cli;

import dev.agentcore.core.AgentId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.AppliedUpdate;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.ControlPlaneServer.RunningControlPlane;
import dev.agentcore.transport.WireJson;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import reactor.core.Disposable;
import reactor.core.publisher.BufferOverflowStrategy;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The live dashboard on the control plane's HTTP port: the page ({@code /}, its script and style,
 * shipped in the jar) and the JSON it reads, behind the admin token ({@code Authorization: Bearer
 * TOKEN}): {@code /api/workspaces} (a page of workspaces with their current rows), {@code
 * /api/rows} (a workspace's recent rows with their timelines) and {@code /api/events} (row
 * changes as server-sent events). Never answers with a secret: no identity, no token.
 *
 * <p>The list of workspaces is read again at most every {@link #WORKSPACES_VALID_FOR}, so a new
 * workspace may take that long to appear. A row's timeline is what the row records (created, startup began, startup ended) merged with
 * the updates this control plane applied while it ran, which say which were replays; updates
 * another replica applied, or applied before this process started, show without that mark.
 */
final class Dashboard implements Disposable {

    /** Rows whose applied updates are remembered, the least recently updated forgotten first. */
    static final int REMEMBERED_ROWS = 20_000;
    /** Applied updates remembered per row. */
    static final int REMEMBERED_STEPS = 32;
    static final int MAX_PAGE = 200;
    private static final Duration EVENT_KEEPALIVE = Duration.ofSeconds(15);
    static final Duration WORKSPACES_VALID_FOR = Duration.ofSeconds(2);
    /** Current rows read at once for a page. */
    private static final int ROW_READS_IN_FLIGHT = 8;
    private static final Map<String, String> CONTENT_TYPES = Map.of("/", "text/html; charset=utf-8",
            "/dashboard.js", "text/javascript; charset=utf-8", "/dashboard.css", "text/css; charset=utf-8");

    /** The page's files by path, read from the jar once. */
    private final Map<String, byte[]> assets = Map.of(
            "/", asset("index.html"), "/dashboard.js", asset("dashboard.js"), "/dashboard.css", asset("dashboard.css"));
    private final LifecycleService lifecycle;
    private final AccessService access;
    private final RunningControlPlane running;
    private final Map<AgentId, List<Step>> applied = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<AgentId, List<Step>> eldest) {
            return size() > REMEMBERED_ROWS;
        }
    };
    private final Disposable watching;
    /**
     * Every workspace as last read, and when (System.nanoTime): read again when older than {@link
     * #WORKSPACES_VALID_FOR}, as an open page reads a page of them at each burst of row changes and
     * workspaces change far more rarely than rows. Two reads at once may both go to the store.
     */
    private final AtomicReference<ReadWorkspaces> lastRead = new AtomicReference<>();

    private record ReadWorkspaces(List<Workspace> all, long at) {
    }

    /** One step of a row's timeline; {@code at} is null when the row does not record the time. */
    record Step(LifecycleState state, Instant at, boolean replay, boolean seen) {
    }

    Dashboard(LifecycleService lifecycle, AccessService access, RunningControlPlane running) {
        this.lifecycle = lifecycle;
        this.access = access;
        this.running = running;
        this.watching = lifecycle.appliedUpdates().subscribe(this::remember);
    }

    private void remember(AppliedUpdate update) {
        synchronized (applied) {
            List<Step> steps = applied.computeIfAbsent(update.row().agentId(), ignored -> new ArrayList<>());
            if (steps.size() == REMEMBERED_STEPS) {
                steps.remove(0);
            }
            steps.add(new Step(update.row().state(), update.changedAt(), update.replay(), true));
        }
    }

    /** Whether this path is the dashboard's. */
    static boolean serves(String path) {
        return CONTENT_TYPES.containsKey(path) || path.startsWith("/api/");
    }

    /** Answers one request for a path it {@link #serves}; {@code uri} is the request's, decoded. */
    Mono<Void> handle(QueryStringDecoder uri, HttpServerRequest request, HttpServerResponse response) {
        String path = uri.path();
        byte[] asset = assets.get(path);
        if (asset != null) {
            return response.status(HttpResponseStatus.OK).header("Content-Type", CONTENT_TYPES.get(path))
                    .header("Cache-Control", "no-cache")
                    .sendByteArray(Mono.just(asset)).then();
        }
        return authorized(request).flatMap(authorized -> {
            if (!authorized) {
                return HttpEndpoints.text(response, HttpResponseStatus.UNAUTHORIZED,
                        "the dashboard's API needs the admin token: Authorization: Bearer TOKEN");
            }
            Map<String, List<String>> query = uri.parameters();
            try {
                return answer(path, query, response);
            } catch (IllegalArgumentException badQuery) {
                return HttpEndpoints.text(response, HttpResponseStatus.BAD_REQUEST, badQuery.getMessage());
            }
        });
    }

    private Mono<Void> answer(String path, Map<String, List<String>> query, HttpServerResponse response) {
        return switch (path) {
            case "/api/workspaces" -> json(response, workspaces(first(query, "filter", ""),
                    number(query, "offset", 0, Integer.MAX_VALUE), number(query, "limit", 50, MAX_PAGE)));
            case "/api/rows" -> {
                String workspace = first(query, "workspace", "");
                if (workspace.isEmpty()) {
                    throw new IllegalArgumentException("/api/rows needs ?workspace=NAME");
                }
                yield json(response, rows(workspace, number(query, "limit", 5, 50)));
            }
            case "/api/events" -> response.status(HttpResponseStatus.OK)
                    .header("Content-Type", "text/event-stream; charset=utf-8")
                    .header("Cache-Control", "no-cache")
                    .sendString(events(), StandardCharsets.UTF_8).then();
            default -> HttpEndpoints.text(response, HttpResponseStatus.NOT_FOUND, "not found: " + path);
        };
    }

    /** Whether the request carries the deployment's admin token (the one every replica on the store accepts). */
    private Mono<Boolean> authorized(HttpServerRequest request) {
        String header = request.requestHeaders().get("Authorization");
        return header != null && header.startsWith("Bearer ")
                ? access.isAdminToken(header.substring(7).strip()) : Mono.just(false);
    }

    /** A page of workspaces whose names contain {@code filter}, by name, each with its current row. */
    Mono<String> workspaces(String filter, int offset, int limit) {
        return allWorkspaces().map(all -> all.stream().filter(workspace -> workspace.name().contains(filter)).toList())
                .flatMap(all -> Flux.fromIterable(all.subList(Math.min(offset, all.size()), Math.min(offset + limit, all.size())))
                        .flatMapSequential(workspace -> lifecycle.latestRow(workspace.name()).map(Optional::of)
                                .defaultIfEmpty(Optional.empty())
                                .map(row -> workspaceJson(workspace, row.orElse(null))), ROW_READS_IN_FLIGHT)
                        .collect(Collectors.joining(",", "{\"total\":" + all.size() + ",\"offset\":" + offset
                                + ",\"workspaces\":[", "]}")));
    }

    private Mono<List<Workspace>> allWorkspaces() {
        return Mono.defer(() -> {
            ReadWorkspaces last = lastRead.get();
            long now = System.nanoTime();
            if (last != null && now - last.at() < WORKSPACES_VALID_FOR.toNanos()) {
                return Mono.just(last.all());
            }
            return access.workspaces().collectList().doOnNext(all -> lastRead.set(new ReadWorkspaces(all, now)));
        });
    }

    private String workspaceJson(Workspace workspace, AgentRow row) {
        return "{\"workspace\":" + WireJson.workspace(workspace) + ",\"row\":" + (row == null ? "null" : WireJson.row(row))
                + ",\"agents_reporting\":" + (row == null ? 0 : running.openChannels(row.agentId())) + "}";
    }

    /** The workspace's recent rows, newest first, each with its timeline. */
    Mono<String> rows(String workspace, int limit) {
        return lifecycle.rows(workspace, limit)
                .map(row -> "{\"row\":" + WireJson.row(row) + ",\"agents_reporting\":" + running.openChannels(row.agentId())
                        + ",\"build_duration_ms\":" + (row.readyAt() == null ? "null"
                        : Long.toString(Duration.between(row.createdAt(), row.readyAt()).toMillis()))
                        + ",\"timeline\":" + timeline(row).stream().map(Dashboard::stepJson)
                        .collect(Collectors.joining(",", "[", "]")) + "}")
                .collect(Collectors.joining(",", "{\"workspace\":" + RowFormat.quote(workspace) + ",\"rows\":[", "]}"));
    }

    /** What the row records, each step replaced by the update this control plane saw apply it, if it did. */
    List<Step> timeline(AgentRow row) {
        List<Step> recorded = new ArrayList<>();
        recorded.add(new Step(LifecycleState.CREATED, row.createdAt(), false, false));
        if (row.startedAt() != null) {
            recorded.add(new Step(LifecycleState.STARTING, row.startedAt(), false, false));
        }
        if (row.readyAt() != null && row.state().isStartOutcome()) {
            recorded.add(new Step(row.state(), row.readyAt(), false, false));
        } else if (row.state() != LifecycleState.CREATED && row.state() != LifecycleState.STARTING) {
            // Startup ended (the row does not keep how) and the agent moved on: its last state, time unrecorded.
            recorded.add(new Step(row.state(), null, false, false));
        }
        List<Step> seen;
        synchronized (applied) {
            seen = List.copyOf(applied.getOrDefault(row.agentId(), List.of()));
        }
        List<Step> merged = new ArrayList<>(recorded);
        for (Step step : seen) {
            int same = -1;
            for (int i = 0; i < merged.size(); i++) {
                if (merged.get(i).state() == step.state() && !merged.get(i).seen()) {
                    same = i;
                    break;
                }
            }
            if (same >= 0) {
                merged.set(same, step);
            } else {
                merged.add(step);
            }
        }
        return merged;
    }

    private static String stepJson(Step step) {
        return "{\"state\":\"" + step.state().name() + "\",\"at\":" + (step.at() == null ? "null" : "\"" + step.at() + "\"")
                + ",\"replay\":" + step.replay() + ",\"seen\":" + step.seen() + "}";
    }

    /**
     * Row changes as server-sent events (the workspace, build and state), with a comment line now
     * and then to keep proxies open, until the admin token is rotated.
     */
    private Flux<String> events() {
        Flux<String> changes = lifecycle.changes()
                .map(row -> "event: row\ndata: {\"workspace\":" + RowFormat.quote(row.workspace()) + ",\"build_number\":"
                        + row.buildNumber() + ",\"state\":\"" + row.state().name() + "\"}\n\n")
                // A reader that falls behind misses changes, not memory: the page re-reads what it shows.
                .onBackpressureBuffer(1024, dropped -> { }, BufferOverflowStrategy.DROP_OLDEST);
        return Flux.merge(Flux.just(": agentcore row changes\n\n"), changes,
                        Flux.interval(EVENT_KEEPALIVE).map(tick -> ": keepalive\n\n"))
                // Opened with the admin token: a new one ends the stream, and the page asks again with what it has.
                .takeUntilOther(access.revocations().filter(AccessService.Revocation.AdminToken.class::isInstance));
    }

    private static Mono<Void> json(HttpServerResponse response, Mono<String> body) {
        return response.status(HttpResponseStatus.OK).header("Content-Type", "application/json; charset=utf-8")
                .header("Cache-Control", "no-store")
                .sendString(body, StandardCharsets.UTF_8).then();
    }

    private static String first(Map<String, List<String>> query, String name, String otherwise) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? otherwise : values.get(0);
    }

    /** The parameter as a number from 0 (1 for a limit) to {@code max}; absent: {@code otherwise}. */
    private static int number(Map<String, List<String>> query, String name, int otherwise, int max) {
        String value = first(query, name, null);
        if (value == null) {
            return otherwise;
        }
        int least = name.equals("limit") ? 1 : 0;
        if (value.isEmpty() || value.length() > 9 || !value.chars().allMatch(Character::isDigit)
                || Integer.parseInt(value) < least) {
            throw new IllegalArgumentException(name + ": expected a whole number from " + least + " up, was '" + value + "'");
        }
        return Math.min(Integer.parseInt(value), max);
    }

    private static byte[] asset(String name) {
        try (InputStream in = Dashboard.class.getResourceAsStream("dashboard/" + name)) {
            if (in == null) {
                throw new IllegalStateException("the dashboard's " + name + " is missing from the build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void dispose() {
        watching.dispose();
    }

    @Override
    public boolean isDisposed() {
        return watching.isDisposed();
    }
}
