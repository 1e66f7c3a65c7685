#!/usr/bin/env bash
# A lifecycle channel asking for 8 updates ahead (AgentRoutes.UPDATES_AHEAD) against one at a time,
# alternated, one sitting, nothing else running.
# before = /tmp/bench-now.jar (35a2a34), ahead = /tmp/bench-ahead.jar (the change).
set -u
n=0
for run in "10000 ahead" "10000 before" "10000 before" "10000 ahead" "1000 before" "1000 ahead" "1000 ahead" "1000 before"; do
  set -- $run
  n=$((n+1))
  if [ "$1" = 10000 ]; then extra="--no-baselines --steady-seconds 2 --saturation-seconds 2"; else extra=""; fi
  if [ "$2" = before ]; then jar=/tmp/bench-now.jar; else jar=/tmp/bench-ahead.jar; fi
  java -jar $jar storm --agents $1 --store mem --seed 20261127 --protocol v2 --boundaries 4 $extra \
      --json "$n-$1-$2.json" > "$n-$1-$2.txt" 2> "$n-$1-$2.err"
  echo "run $n ($1 agents, $2): exit $?"
done
