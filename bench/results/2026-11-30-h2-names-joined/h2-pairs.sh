#!/bin/bash
# 10,000 agents on H2, alternated: before = d9ba1f1 (IN lists of String parameters), joined = the
# names joined as a VALUES table (each jar built from its commit and kept aside).
declare -A JAR=([before]=/tmp/bench-before.jar [joined]=/tmp/bench-after.jar)
O=bench/results/2026-11-30-h2-names-joined
i=0
for v in joined before before joined; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 10000 --store h2 --seed 20261127 --protocol v2 --no-baselines \
      --steady-seconds 2 --saturation-seconds 2 --converge-timeout 300 > $O/h2-10k-$i-$v.txt 2> $O/h2-10k-$i-$v.err
done
