#!/bin/bash
declare -A JAR=([before]=/tmp/wt-before/bench/target/agentcore-bench.jar [head]=/work/main/bench/target/agentcore-bench.jar)
i=0
for v in head before before head; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 1000 --store mem --seed 20261127 --protocol v2 --boundaries 4 > /tmp/runs/p1k-$i-$v.txt 2>/tmp/runs/p1k-$i-$v.err
done
for v in before head; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 2000 --store h2 --seed 20261127 --protocol v2 --no-baselines --steady-seconds 2 --saturation-seconds 2 > /tmp/runs/h2k-$i-$v.txt 2>/tmp/runs/h2k-$i-$v.err
done
echo done > /tmp/runs/pairs1k.done
