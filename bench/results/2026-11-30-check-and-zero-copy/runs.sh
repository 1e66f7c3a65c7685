#!/bin/bash
# The runs of this folder, in the order they ran. "before" = ec3d6b4 (a git worktree), "zero-copy" = 26520c3
# (main at the time); the f10k-* runs at f47e658 (the zero-copy reverted: the same code as ec3d6b4).
declare -A JAR=([before]=/tmp/wt-base/bench/target/agentcore-bench.jar [zero-copy]=/work/main/bench/target/agentcore-bench.jar)
O=bench/results/2026-11-30-check-and-zero-copy
i=0
for v in before zero-copy zero-copy before; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 10000 --store mem --seed 20261127 --protocol v2 --no-baselines \
      --steady-seconds 2 --saturation-seconds 2 --boundaries 4 > $O/p10k-$i-$v.txt 2> $O/p10k-$i-$v.err
done
for v in zero-copy before before zero-copy before zero-copy before zero-copy; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 1000 --store mem --seed 20261127 --protocol v2 --boundaries 4 \
      > $O/p1k-$i-$v.txt 2> $O/p1k-$i-$v.err
done
# then, with async-profiler 3.0 on both JVMs (event=cpu,interval=1ms,jfr), one 10,000-agent run as above:
# profiled-10000.*; and at f47e658:
J=bench/target/agentcore-bench.jar
java -jar $J storm --agents 10000 --store mem --seed 20261127 --protocol v2 --no-baselines --steady-seconds 2 --saturation-seconds 2 --boundaries 4 > $O/f10k-1-mem.txt 2> $O/f10k-1-mem.err
java -jar $J storm --agents 10000 --store h2 --seed 20261127 --protocol v2 --no-baselines --steady-seconds 2 --saturation-seconds 2 --converge-timeout 300 > $O/f10k-2-h2.txt 2> $O/f10k-2-h2.err
java -jar $J storm --agents 10000 --store mem --seed 20261127 --protocol v2 --no-baselines --steady-seconds 2 --saturation-seconds 2 --boundaries 4 > $O/f10k-3-mem.txt 2> $O/f10k-3-mem.err
java -jar $J storm --agents 10000 --store postgres --seed 20261127 --protocol v2 --no-baselines --steady-seconds 2 --saturation-seconds 2 --converge-timeout 300 > $O/f10k-4-postgres.txt 2> $O/f10k-4-postgres.err
