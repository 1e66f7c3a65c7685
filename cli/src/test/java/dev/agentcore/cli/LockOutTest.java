package dev.agentcore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.rsocket.core.RSocketConnector;
import io.rsocket.transport.netty.client.TcpClientTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

/**
 * One unauthenticated host cannot lock agents and admins out: the control plane runs in a
 * process of its own with an open-file limit of 1,024, while this JVM, from addresses of its own
 * (127.0.0.2 and up), keeps more idle raw TCP connections open than that limit allows, plus
 * token-less SETUPs that ask for a keepalive of 2^31-1 ms and token-less SETUPs that then say
 * nothing, each reopened whenever the control plane closes it. Meanwhile an admin creates a
 * workspace and starts builds, and an agent reaches READY and crosses a build boundary.
 */
class LockOutTest extends CommandLineProcesses {

    private static final int OPEN_FILE_LIMIT = 1024;
    private static final int RAW_SOURCES = 20;
    private static final int PER_SOURCE = 64;
    /** How long the attacker waits before reopening a connection the control plane closed. */
    private static final Duration REOPEN_AFTER = Duration.ofSeconds(1);

    private final Disposable.Composite attack = Disposables.composite();
    private final Set<Disposable> attackerConnections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger attackerOpen = new AtomicInteger();
    private final AtomicLong attackerOpened = new AtomicLong();
    private final AtomicInteger attackerPeak = new AtomicInteger();

    @AfterEach
    void stopTheAttack() {
        attack.dispose();
        attackerConnections.forEach(Disposable::dispose);
    }

    /** One attacker slot: a connection from {@code source}, reopened each time it is closed. */
    private void hold(String source, Mono<? extends Disposable> connect) {
        Mono<Void> once = connect.flatMap(connection -> {
            attackerConnections.add(connection);
            attackerOpened.incrementAndGet();
            attackerPeak.accumulateAndGet(attackerOpen.incrementAndGet(), Math::max);
            Mono<Void> closed = connection instanceof Connection netty ? netty.onDispose()
                    : ((io.rsocket.RSocket) connection).onClose().onErrorResume(error -> Mono.empty());
            return closed.doFinally(signal -> {
                attackerOpen.decrementAndGet();
                attackerConnections.remove(connection);
            });
        }).onErrorResume(error -> Mono.empty());
        attack.add(once.then(Mono.delay(REOPEN_AFTER)).repeat().subscribe());
    }

    private Mono<? extends Connection> raw(String source) {
        return TcpClient.create().remoteAddress(() -> new InetSocketAddress("127.0.0.1", port))
                .bindAddress(() -> new InetSocketAddress(source, 0)).connect();
    }

    private Mono<io.rsocket.RSocket> tokenlessSetup(String source, Duration interval, Duration maxLifetime) {
        return RSocketConnector.create()
                .metadataMimeType("message/x.rsocket.composite-metadata.v0")
                .dataMimeType("application/x-protobuf")
                .keepAlive(interval, maxLifetime)
                .connect(TcpClientTransport.create(TcpClient.create()
                        .remoteAddress(() -> new InetSocketAddress("127.0.0.1", port))
                        .bindAddress(() -> new InetSocketAddress(source, 0))));
    }

    @Test
    void anAgentAndAnAdminGetThroughWhileOneHostHoldsMoreConnectionsThanTheControlPlaneHasFiles() throws Exception {
        startControlPlane(List.of("bash", "-c", "ulimit -n " + OPEN_FILE_LIMIT + " && exec \"$0\" \"$@\""));
        assertThat(Files.readString(directory.resolve("control-plane.err")))
                .as("the control plane fits its limits to the open-file limit")
                .contains("the open-file limit (" + OPEN_FILE_LIMIT + ") lowers the connection limits");

        // Without the attack first: what the same steps cost on this machine.
        Timings calm = agentThroughABuildBoundary("calm");

        // The attack: idle raw connections, past the control plane's open-file limit on their own ...
        for (int source = 0; source < RAW_SOURCES; source++) {
            String address = "127.0.0." + (2 + source);
            for (int i = 0; i < PER_SOURCE; i++) {
                hold(address, raw(address));
            }
        }
        // ... token-less SETUPs asking for a keepalive the control plane cannot live with, and silent ones.
        for (int i = 0; i < 100; i++) {
            Duration huge = Duration.ofMillis(Integer.MAX_VALUE);
            hold("127.0.0.40", tokenlessSetup("127.0.0.40", huge, huge));
            hold("127.0.0.41", tokenlessSetup("127.0.0.41", Duration.ofSeconds(20), Duration.ofSeconds(60)));
        }
        int attackerSlots = RAW_SOURCES * PER_SOURCE + 200;
        awaitAttackerOpened(attackerSlots);
        long attackBegan = System.nanoTime();
        double cpuBefore = processCpuSeconds(controlPlane.pid());

        Timings attacked = agentThroughABuildBoundary("dev");

        double attackSeconds = (System.nanoTime() - attackBegan) / 1e9;
        double cpu = processCpuSeconds(controlPlane.pid()) - cpuBefore;
        assertThat(controlPlane.isAlive()).isTrue();
        System.out.printf("LockOutTest: open-file limit %d; attacker slots %d (reopened %s after each close), "
                        + "connections opened %d, at most %d open at once on its side; control plane CPU %.1f s "
                        + "in %.1f s of attack%n  without the attack: %s%n  under the attack:    %s%n",
                OPEN_FILE_LIMIT, attackerSlots, REOPEN_AFTER, attackerOpened.get(), attackerPeak.get(), cpu,
                attackSeconds, calm, attacked);
        assertThat(attackerOpened.get()).as("the attacker kept reopening").isGreaterThan(attackerSlots);
    }

    /** Seconds each step took: workspace create, build start, the agent's process start to READY, READY again after a new build. */
    record Timings(double create, double build, double toReady, double acrossBoundary) {
        @Override
        public String toString() {
            return String.format("workspace create %.1f s, build start %.1f s, agent start to READY %.1f s, "
                    + "new build to READY again %.1f s", create, build, toReady, acrossBoundary);
        }
    }

    private Timings agentThroughABuildBoundary(String workspace) throws Exception {
        long begin = System.nanoTime();
        Result create = admin("workspace", "create", workspace, "--identity-file", workspace + ".identity",
                "--startup-script", "true", "--blocking");
        double created = seconds(begin);
        assertThat(create.exitCode()).as(create.stderr()).isZero();
        begin = System.nanoTime();
        Result first = admin("build", "start", workspace);
        double built = seconds(begin);
        assertThat(first.exitCode()).as(first.stderr()).isZero();

        begin = System.nanoTime();
        Process agent = start("agent-" + workspace, "agent", "--control-plane", "127.0.0.1:" + port,
                "--identity-file", workspace + ".identity");
        Result ready = admin("wait", workspace, "--timeout", "60s");
        double toReady = seconds(begin);
        assertThat(ready.exitCode()).as(ready.stdout() + ready.stderr()).isZero();

        begin = System.nanoTime();
        Result second = admin("build", "start", workspace, "--json");
        assertThat(second.exitCode()).as(second.stderr()).isZero();
        assertThat(field(second.stdout(), "build_number")).isEqualTo("2");
        Result readyAgain = admin("wait", workspace, "--timeout", "60s");
        double acrossBoundary = seconds(begin);
        assertThat(readyAgain.exitCode()).as(readyAgain.stdout() + readyAgain.stderr()).isZero();
        assertThat(readyAgain.stdout()).contains(workspace + ": build 2 is READY");

        agent.destroy();
        assertThat(agent.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        return new Timings(created, built, toReady, acrossBoundary);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    /** User plus system CPU time of a process so far, from /proc (Linux). */
    private static double processCpuSeconds(long pid) throws IOException {
        String stat = Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
    }

    /** Waits, with a deadline, until every attacker slot has opened at least once. */
    private void awaitAttackerOpened(int slots) {
        Mono.fromSupplier(attackerOpened::get).filter(opened -> opened >= slots)
                .repeatWhenEmpty(empty -> empty.delayElements(Duration.ofMillis(50)))
                .block(Duration.ofSeconds(60));
    }
}
