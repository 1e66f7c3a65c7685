#!/bin/bash
# 10,000 agents on H2, four boundaries, alternated: joined = f050dc0, inplace = the same with the
# writer's connection calls run on the writer's thread (each jar built from its tree and kept aside).
declare -A JAR=([joined]=/tmp/bench-joined.jar [inplace]=/tmp/bench-inplace.jar)
O=bench/results/2026-11-30-h2-names-joined
i=${START:-0}
for v in "$@"; do
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 10000 --store h2 --seed 20261127 --protocol v2 --no-baselines \
      --steady-seconds 2 --saturation-seconds 2 --converge-timeout 300 --boundaries 4 > $O/h2-inplace-$i-$v.txt 2> $O/h2-inplace-$i-$v.err
done
