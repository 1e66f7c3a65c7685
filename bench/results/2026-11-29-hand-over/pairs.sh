#!/bin/bash
# alternated 10k runs: before, home, head, head, home, before
declare -A JAR=([before]=/tmp/wt-before/bench/target/agentcore-bench.jar [home]=/tmp/wt-home/bench/target/agentcore-bench.jar [head]=/work/main/bench/target/agentcore-bench.jar)
i=0
for v in before home head head home before; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 10000 --store mem --seed 20261127 --protocol v2 --no-baselines --steady-seconds 2 --saturation-seconds 2 --boundaries 4 > /tmp/runs/p10k-$i-$v.txt 2>/tmp/runs/p10k-$i-$v.err
done
echo done > /tmp/runs/pairs.done
