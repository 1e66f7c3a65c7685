#!/bin/bash
# 10,000 agents on PostgreSQL (the default two boundaries), alternated: before = d9ba1f1, joined = f050dc0.
declare -A JAR=([before]=/tmp/bench-before.jar [joined]=/tmp/bench-joined.jar)
O=bench/results/2026-11-30-h2-names-joined
i=${START:-0}
for v in "$@"; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 10000 --store postgres --seed 20261127 --protocol v2 --no-baselines \
      --steady-seconds 2 --saturation-seconds 2 --converge-timeout 300 > $O/pg-10k-$i-$v.txt 2> $O/pg-10k-$i-$v.err
done
