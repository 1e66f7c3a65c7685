#!/bin/bash
# 10,000 agents on H2, alternated: before = f47e658 (its bench jar kept aside), varchar = 9138a8d (String
# parameters cast to VARCHAR; reverted in 9585deb).
declare -A JAR=([before]=/tmp/bench-before.jar [varchar]=bench/target/agentcore-bench.jar)
O=bench/results/2026-11-30-check-and-zero-copy
i=0
for v in before varchar varchar before; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 10000 --store h2 --seed 20261127 --protocol v2 --no-baselines \
      --steady-seconds 2 --saturation-seconds 2 --converge-timeout 300 > $O/h2-10k-$i-$v.txt 2> $O/h2-10k-$i-$v.err
done
