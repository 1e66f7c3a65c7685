#!/bin/bash
# Idle heap per connected agent and the per-update path, alternated: the session's first commit
# (440c183, "start") against 73bfc5e ("final"). Each jar built from its commit and kept aside.
# Run from this directory; outputs <n>-<what>-<jar>.txt (stdout) and .err (progress).
set -u
quick="--no-baselines --boundaries 1 --idle-seconds 1 --steady-seconds 1 --saturation-seconds 1"
n=0
run() { # jar what args...
  local jar=$1 what=$2; shift 2
  n=$((n+1))
  java -jar /tmp/bench-$jar.jar storm --seed 20261127 --protocol v2 "$@" > $n-$what-$jar.txt 2> $n-$what-$jar.err
  echo "$n $what $jar rc=$? $(grep -h 'control-plane heap' $n-$what-$jar.txt)"
}
for jar in final start start final; do run $jar heap-2k --agents 2000 --store mem $quick; done
for jar in start final; do run $jar heap-10k --agents 10000 --store mem $quick --converge-timeout 300; done
for jar in final start; do run $jar heap-h2-2k --agents 2000 --store h2 $quick --converge-timeout 300; done
for jar in start final final start; do run $jar storm-1k --agents 1000 --store mem --boundaries 4; done
# Then, the measured boundary at 10,000 agents in memory (four boundaries, the 4th measured):
for jar in final start start final; do run $jar storm-10k --agents 10000 --store mem --no-baselines --steady-seconds 2 --saturation-seconds 2 --boundaries 4 --converge-timeout 300; done
