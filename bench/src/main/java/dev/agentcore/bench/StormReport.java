package dev.agentcore.bench;

import java.util.List;
import java.util.Map;

/** The storm's results as a few readable lines. */
final class StormReport {

    private StormReport() {
    }

    @SuppressWarnings("unchecked")
    static String table(Map<String, Object> results) {
        StringBuilder out = new StringBuilder();
        line(out, "agentcore storm: %s agents, store %s, protocol %s, seed %s%s%s", results.get("agents"),
                results.get("store"), results.get("protocol"), results.get("seed"),
                results.containsKey("boundaries") ? ", " + results.get("boundaries") + " build boundaries (the last measured)" : "",
                results.containsKey("warm_up_seconds") ? ", warm-up " + results.get("warm_up_seconds") + " s" : "");
        Map<String, Object> phase1 = (Map<String, Object>) results.get("phase1");
        if (phase1 != null) {
            line(out, "phase 1, startup:        %s of %s rows READY after %s s", phase1.get("rows_ready"),
                    results.get("agents"), num(phase1.get("seconds_to_all_ready")));
        }
        Map<String, Object> heap = (Map<String, Object>) results.get("heap");
        if (heap != null) {
            line(out, "control-plane heap:      %s live without agents, %s with all connected and idle: "
                            + "%s per connected agent (%s in all per agent)",
                    bytes(heap.get("live_bytes_without_agents")), bytes(heap.get("live_bytes_agents_connected_idle")),
                    bytes(heap.get("bytes_per_connected_agent")), bytes(heap.get("total_live_bytes_per_agent")));
        }
        Map<String, Object> cold = (Map<String, Object>) results.get("phase2_cold");
        if (cold != null) {
            Map<String, Object> latency = (Map<String, Object>) cold.get("per_agent_latency_ms");
            line(out, "phase 2a, first boundary (cold JVMs, not the measured one): new rows READY after %s s; "
                            + "per agent p50 %s ms; CPU per agent %s ms in the control plane, %s ms in the agents' JVM",
                    num(cold.get("seconds_to_all_ready")), num(latency.get("p50")),
                    num(cold.get("control_plane_cpu_ms_per_agent")), num(cold.get("harness_cpu_ms_per_agent")));
        }
        Map<String, Object> phase2 = (Map<String, Object>) results.get("phase2");
        if (phase2 != null) {
            Map<String, Object> latency = (Map<String, Object>) phase2.get("per_agent_latency_ms");
            line(out, "phase 2, build boundary: 100%% of new rows READY after %s s; per agent p50 %s ms, p99 %s ms, "
                            + "max %s ms; stuck rows %s",
                    num(phase2.get("seconds_to_all_ready")), num(latency.get("p50")), num(latency.get("p99")),
                    num(latency.get("max")), phase2.get("stuck_rows"));
            line(out, "                         %s TCP connections opened; CPU per agent to the last READY %s ms "
                            + "in the control plane, %s ms in the agents' JVM",
                    phase2.get("tcp_connections_opened"), num(phase2.get("control_plane_cpu_ms_per_agent")),
                    num(phase2.get("harness_cpu_ms_per_agent")));
        }
        Map<String, Object> idle = (Map<String, Object>) results.get("idle");
        if (idle != null) {
            line(out, "idle, all connected:     CPU per agent per second %s us in the control plane, %s us in the "
                            + "agents' JVM (over %s s)",
                    num(idle.get("control_plane_cpu_us_per_agent_second")), num(idle.get("harness_cpu_us_per_agent_second")),
                    idle.get("seconds"));
        }
        Map<String, Object> steady = (Map<String, Object>) results.get("steady");
        if (steady != null) {
            Map<String, Object> latency = (Map<String, Object>) steady.get("ack_latency_ms");
            line(out, "phase 3, steady state:   %s acked updates/s (offered %s/s); update->ack p50 %s ms, p99 %s ms, "
                            + "max %s ms",
                    num(steady.get("acked_per_second")), num(steady.get("offered_updates_per_second")),
                    num(latency.get("p50")), num(latency.get("p99")), num(latency.get("max")));
        }
        Map<String, Object> saturated = (Map<String, Object>) results.get("throughput_agentcore");
        Map<String, Object> echo = (Map<String, Object>) results.get("throughput_echo");
        if (saturated != null) {
            line(out, "throughput, agentcore:   %s acked updates/s (one update in flight per agent)",
                    num(saturated.get("acked_per_second")));
        }
        if (echo != null) {
            line(out, "throughput, bare echo:   %s payloads/s of %s bytes on %s connections; agentcore = %s%% of it",
                    num(echo.get("echoed_per_second")), echo.get("payload_bytes"), echo.get("connections"),
                    num(100 * ((Number) results.get("throughput_ratio")).doubleValue()));
        }
        Map<String, Object> naive = (Map<String, Object>) results.get("naive");
        if (naive != null) {
            line(out, "baseline, naive:         %s of %s new rows stuck after %s s (%s agents reconnected); "
                            + "agentcore: %s stuck",
                    naive.get("stuck_rows"), results.get("agents"), num(naive.get("grace_seconds")),
                    naive.get("agents_reconnected"), results.get("stuck_rows"));
        }
        for (Map<String, Object> phase : (List<Map<String, Object>>) results.get("cpu")) {
            line(out, "cpu seconds, %-31s control plane %6s, harness %6s%s (wall %s s)", phase.get("phase") + ":",
                    num(phase.get("control_plane_cpu_seconds")), num(phase.get("harness_cpu_seconds")),
                    phase.containsKey("postgres_cpu_seconds")
                            ? ", postgres " + String.format("%6s", num(phase.get("postgres_cpu_seconds"))) : "",
                    num(phase.get("wall_seconds")));
            if (phase.containsKey("store_commits")) {
                line(out, "store commits, %-29s %s (%s/s), batch size p50 %s, p99 %s; writer committing %s s, "
                                + "answering %s s", phase.get("phase") + ":",
                        phase.get("store_commits"), num(phase.get("store_commits_per_second")),
                        phase.get("store_batch_size_p50"), phase.get("store_batch_size_p99"),
                        num(phase.get("store_committing_seconds")), num(phase.get("store_answering_seconds")));
            }
        }
        if (phase2 == null && results.containsKey("stuck_rows")) {
            line(out, "rows not READY:          %s", results.get("stuck_rows"));
        }
        line(out, "result: %s", Boolean.TRUE.equals(results.get("ok")) ? "ok, no row left stuck" : "FAILED");
        return out.toString();
    }

    private static void line(StringBuilder out, String format, Object... args) {
        out.append(String.format(format, args)).append('\n');
    }

    private static String num(Object value) {
        if (!(value instanceof Number number)) {
            return String.valueOf(value);
        }
        double d = number.doubleValue();
        if (Double.isNaN(d)) {
            return "n/a";
        }
        if (d >= 100) {
            return String.format("%,.0f", d);
        }
        return d >= 10 ? String.format("%.1f", d) : String.format("%.2f", d);
    }

    private static String bytes(Object value) {
        long bytes = value instanceof Number number ? number.longValue() : -1;
        if (bytes < 0) {
            return "n/a";
        }
        return bytes >= 1 << 20 ? String.format("%.1f MiB", bytes / 1048576.0) : String.format("%.1f KiB", bytes / 1024.0);
    }
}
