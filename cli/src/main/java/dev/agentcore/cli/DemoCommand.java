package dev.agentcore.cli;

import ch.qos.logback.classic.Level;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.Script;
import dev.agentcore.core.agent.AgentChangePolicy;
import dev.agentcore.core.control.AccessService;
import dev.agentcore.core.control.AgentRow;
import dev.agentcore.core.control.InMemoryAgentStore;
import dev.agentcore.core.control.InMemoryWorkspaceStore;
import dev.agentcore.core.control.LifecycleService;
import dev.agentcore.core.control.Workspace;
import dev.agentcore.transport.AgentConnector;
import dev.agentcore.transport.ControlPlaneAddress;
import dev.agentcore.transport.ControlPlaneServer;
import dev.agentcore.transport.ControlPlaneServer.RunningControlPlane;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Shows the bug agentcore fixes, in a few seconds, in one process: an embedded control plane "
                + "and two agents, one with a naive reporter (it re-sends nothing when its row changes) and one "
                + "with agentcore's. Both start up; a build boundary happens while both are suspended; both resume.",
                "Exit 0 when agentcore's new row is READY."})
final class DemoCommand implements Callable<Integer> {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final List<String> WORKSPACES = List.of("naive", "agentcore");

    private final long start = System.nanoTime();

    @Override
    public Integer call() throws Exception {
        if (System.getenv("AGENTCORE_LOG_LEVEL") == null) {
            // The demo's story is on stdout; reconnect warnings while "suspended" are expected.
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.agentcore")).setLevel(Level.ERROR);
        }
        InMemoryAgentStore rows = new InMemoryAgentStore();
        LifecycleService service = LifecycleService.builder(rows).build();
        AccessService access = new AccessService(rows, new InMemoryWorkspaceStore());
        String adminToken = AccessService.newSecret();
        RunningControlPlane running = ControlPlaneServer.builder(service, access)
                .tcp("127.0.0.1", 0).adminToken(adminToken).build().start().block(TIMEOUT);
        int port = running.tcpAddress().getPort();
        // The same control plane again, on the port it got: what the agents will reconnect to.
        ControlPlaneServer server = ControlPlaneServer.builder(service, access)
                .tcp("127.0.0.1", port).adminToken(adminToken).build();
        say("control plane listening on 127.0.0.1:" + port + " (in memory)");

        Map<String, String> identities = new ConcurrentHashMap<>();
        for (String name : WORKSPACES) {
            identities.put(name, access.createWorkspace(new Workspace(name, name + "-agent",
                    List.of(new Script("sleep 0.3", Duration.ofSeconds(10), true)), List.of())).block(TIMEOUT));
            service.startBuild(name).block(TIMEOUT);
        }
        Disposable timeline = Flux.merge(WORKSPACES.stream().map(name -> service.watch(name)
                        .distinctUntilChanged(row -> row.buildNumber() + "/" + row.state() + "/" + row.active()))
                        .toList())
                .subscribe(row -> say(String.format("%-9s build %d  %s%s", row.workspace(), row.buildNumber(),
                        row.state(), row.active() ? "" : "  (retired)")));

        ControlPlaneAddress address = ControlPlaneAddress.tcp("127.0.0.1", port);
        try (AgentRuntime naive = agent(address, identities.get("naive"), true);
             AgentRuntime agentcore = agent(address, identities.get("agentcore"), false)) {
            say("two agents start; each runs a real startup script (sleep 0.3)");
            CompletableFuture.allOf(
                    CompletableFuture.runAsync(() -> naive.runStartup(naive.awaitFirstManifest(TIMEOUT))),
                    CompletableFuture.runAsync(() -> agentcore.runStartup(agentcore.awaitFirstManifest(TIMEOUT))))
                    .get();
            for (String name : WORKSPACES) {
                awaitState(service, name, 1, LifecycleState.READY);
            }

            say("the VM is suspended: both agents' connections drop");
            running.disposeNow(TIMEOUT);
            say("meanwhile a new build starts for each workspace");
            AgentRow naiveRow = service.startBuild("naive").block(TIMEOUT);
            service.startBuild("agentcore").block(TIMEOUT);
            say("the VM resumes: both agents reconnect and exchange their identity for the new row");
            running = server.start().block(TIMEOUT);

            awaitState(service, "agentcore", 2, LifecycleState.READY);
            naive.manifests().filter(manifest -> manifest.agentId().equals(naiveRow.agentId())).blockFirst(TIMEOUT);
            // The naive agent is connected to its new row; give it a moment to (not) report.
            Mono.delay(Duration.ofSeconds(1)).block();
        } finally {
            timeline.dispose();
            running.disposeNow(TIMEOUT);
        }

        System.out.println();
        System.out.println(String.format("%-10s %-10s %-6s %-10s %-11s %-11s", "workspace", "reporter", "build",
                "state", "started_at", "ready_at"));
        boolean fixed = false;
        for (String name : WORKSPACES) {
            AgentRow row = rows.latestRow(name).block(TIMEOUT);
            System.out.println(String.format("%-10s %-10s %-6d %-10s %-11s %-11s  %s", name, name, row.buildNumber(),
                    row.state(), offset(row, row.startedAt()), offset(row, row.readyAt()),
                    row.state() == LifecycleState.CREATED ? "<- stuck: every client waiting for READY hangs"
                            : row.state() == LifecycleState.READY ? "<- replayed: started_at < ready_at" : ""));
            if (name.equals("agentcore")) {
                fixed = row.state() == LifecycleState.READY && row.startedAt().isBefore(row.readyAt());
            }
        }
        System.out.println("(started_at and ready_at are measured from the row's created_at)");
        return fixed ? ExitCodes.OK : ExitCodes.DEMO_FAILED;
    }

    private static AgentRuntime agent(ControlPlaneAddress address, String identity, boolean naive) {
        return new AgentRuntime(AgentConnector.builder(address, identity)
                .backoff(Duration.ofMillis(20), Duration.ofMillis(300)).build(), AgentChangePolicy.REPLAY, naive);
    }

    private static void awaitState(LifecycleService service, String workspace, long build, LifecycleState state) {
        service.watch(workspace).filter(row -> row.buildNumber() == build && row.state() == state).blockFirst(TIMEOUT);
    }

    private static String offset(AgentRow row, java.time.Instant at) {
        return at == null ? "-" : "+" + RowFormat.human(Duration.between(row.createdAt(), at));
    }

    private synchronized void say(String line) {
        System.out.printf("[%6.2fs] %s%n", (System.nanoTime() - start) / 1e9, line);
    }
}
