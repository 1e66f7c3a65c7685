#!/bin/bash
declare -A JAR=([before]=/tmp/wt-before/bench/target/agentcore-bench.jar [head]=/work/main/bench/target/agentcore-bench.jar)
i=0
for v in head before; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 10000 --store h2 --seed 20261127 --protocol v2 --no-baselines --steady-seconds 2 --saturation-seconds 2 --converge-timeout 300 > /tmp/runs/h10k-$i-$v.txt 2>/tmp/runs/h10k-$i-$v.err
done
echo done > /tmp/runs/h2-10k.done
