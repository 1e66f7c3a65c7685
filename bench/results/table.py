#!/usr/bin/env python3
"""Renders the storm results (bench/results/storm-*.json) as the Markdown tables in bench/RESULTS.md.

With an argument, the results in that folder of bench/results (for example 2026-11-28), with the
store writer's commits and batch sizes per phase when the run recorded them.
"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
if len(sys.argv) > 1:
    here = os.path.join(here, sys.argv[1])
rows = [
    ("build boundary: all new rows READY (s)", lambda d: f"{d['phase2']['seconds_to_all_ready']:.1f}"),
    ("per-agent convergence p50 / p99 / max (s)", lambda d: "{:.2f} / {:.2f} / {:.2f}".format(
        *(d['phase2']['per_agent_latency_ms'][k] / 1000 for k in ('p50', 'p99', 'max')))),
    ("rows left stuck", lambda d: str(d['stuck_rows'])),
    ("startup, phase 1: all READY (s)", lambda d: f"{d['phase1']['seconds_to_all_ready']:.1f}"),
    ("control-plane heap per connected idle agent (KiB)", lambda d: f"{d['heap']['bytes_per_connected_agent'] / 1024:.1f}"),
    ("steady state: offered / acked updates/s", lambda d: "{:,.0f} / {:,.0f}".format(
        d['steady']['offered_updates_per_second'], d['steady']['acked_per_second'])),
    ("steady state: update-to-ack p50 / p99 (ms)", lambda d: "{:.2f} / {:.1f}".format(
        d['steady']['ack_latency_ms']['p50'], d['steady']['ack_latency_ms']['p99'])),
    ("throughput: agentcore acked updates/s", lambda d: f"{d['throughput_agentcore']['acked_per_second']:,.0f}"),
    ("throughput: bare RSocket echo payloads/s", lambda d: f"{d['throughput_echo']['echoed_per_second']:,.0f}"),
    ("agentcore / echo", lambda d: f"{100 * d['throughput_ratio']:.0f}%"),
    ("naive reporter: new rows stuck", lambda d: "{:,} of {:,}".format(d['naive']['stuck_rows'], d['agents'])),
    ("CPU s, storm phase: control plane / harness{}", None),
]


def cpu(d, phase):
    for p in d['cpu']:
        if p['phase'].startswith(phase):
            text = "{:.1f} / {:.1f}".format(p['control_plane_cpu_seconds'], p['harness_cpu_seconds'])
            if 'postgres_cpu_seconds' in p:
                text += " / {:.1f}".format(p['postgres_cpu_seconds'])
            return text + " (wall {:.1f})".format(p['wall_seconds'])
    return "-"


def commits(d, phase):
    for p in d['cpu']:
        if p['phase'].startswith(phase) and 'store_commits' in p:
            return "{:,.0f}, {} / {}".format(p['store_commits_per_second'], p['store_batch_size_p50'],
                                            p['store_batch_size_p99'])
    return "-"


for store in ("mem", "h2", "postgres"):
    runs = []
    for agents in (1000, 10000):
        for suffix, label in (("", ""), ("-run2", ", run 2")):
            path = os.path.join(here, f"storm-{store}-{agents}{suffix}.json")
            if os.path.exists(path):
                with open(path) as f:
                    runs.append((f"{agents:,} agents{label}", json.load(f)))
    if not runs:
        continue
    print(f"\n#### store: {store}\n")
    print("| | " + " | ".join(label for label, _ in runs) + " |")
    print("|---|" + "---|" * len(runs))
    for name, cell in rows[:-1]:
        print(f"| {name} | " + " | ".join(cell(d) for _, d in runs) + " |")
    pg = " / postgres" if store == "postgres" else ""
    print(f"| CPU s in the build-boundary phase: control plane / harness{pg} | "
          + " | ".join(cpu(d, "phase 2") for _, d in runs) + " |")
    print(f"| CPU s in the steady phase: control plane / harness{pg} | "
          + " | ".join(cpu(d, "phase 3") for _, d in runs) + " |")
    for phase, label in (("phase 2", "build boundary"), ("phase 3", "steady state"), ("throughput: agentcore", "throughput")):
        if any(commits(d, phase) != "-" for _, d in runs):
            print(f"| store commits/s, batch size p50 / p99: {label} | "
                  + " | ".join(commits(d, phase) for _, d in runs) + " |")

jmh_path = os.path.join(here, "jmh.json")  # only in the top folder
if os.path.exists(jmh_path):
    with open(jmh_path) as f:
        jmh = json.load(f)
    print("\n| benchmark | ns per op (op = one transition or update) | ± (99.9%) | allocated B/op |")
    print("|---|---|---|---|")
    for result in jmh:
        name = result["benchmark"].split(".")[-2] + "." + result["benchmark"].split(".")[-1]
        primary = result["primaryMetric"]
        alloc = result.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score")
        print("| {} | {:,.0f} | {:,.0f} | {} |".format(name, primary["score"], primary["scoreError"],
                                                     "-" if alloc is None else "{:,.0f}".format(alloc)))
