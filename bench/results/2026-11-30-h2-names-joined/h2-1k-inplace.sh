#!/bin/bash
# 1,000 agents on H2, alternated: joined = f050dc0, inplace = the writer's connection calls on its own thread.
declare -A JAR=([joined]=/tmp/bench-joined.jar [inplace]=/tmp/bench-inplace.jar)
O=bench/results/2026-11-30-h2-names-joined
i=${START:-0}
for v in "$@"; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 1000 --store h2 --seed 20261127 --protocol v2 --no-baselines \
      --steady-seconds 5 --saturation-seconds 5 --boundaries 4 > $O/h2-1k-$i-$v.txt 2> $O/h2-1k-$i-$v.err
done
