#!/usr/bin/env bash
# Consolidated flushes (Netty's FlushConsolidationHandler on both sides of every connection) against
# the commit before, alternated, one sitting, nothing else running.
# before = /tmp/bench-now.jar (35a2a34), flush = /tmp/bench-flush.jar (the change, uncommitted when measured).
set -u
n=0
for run in "10000 before" "10000 flush" "10000 flush" "10000 before" "1000 flush" "1000 before" "1000 before" "1000 flush"; do
  set -- $run
  n=$((n+1))
  if [ "$1" = 10000 ]; then extra="--no-baselines --steady-seconds 2 --saturation-seconds 2"; else extra=""; fi
  java -jar /tmp/bench-$( [ $2 = before ] && echo now || echo flush ).jar storm --agents $1 --store mem --seed 20261127 --protocol v2 --boundaries 4 $extra \
      --json "$n-$1-$2.json" > "$n-$1-$2.txt" 2> "$n-$1-$2.err"
  echo "run $n ($1 agents, $2): exit $?"
done
