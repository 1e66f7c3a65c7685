#!/bin/bash
# 10,000 agents on H2 with four boundaries (the last measured, as the in-memory runs do), alternated.
declare -A JAR=([before]=/tmp/bench-before.jar [joined]=/tmp/bench-after.jar)
O=bench/results/2026-11-30-h2-names-joined
i=${START:-0}
for v in "$@"; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 10000 --store h2 --seed 20261127 --protocol v2 --no-baselines \
      --steady-seconds 2 --saturation-seconds 2 --converge-timeout 300 --boundaries 4 > $O/h2-warm-$i-$v.txt 2> $O/h2-warm-$i-$v.err
done
