#!/bin/bash
declare -A JAR=([before]=/tmp/wt-before/bench/target/agentcore-bench.jar [head]=/work/main/bench/target/agentcore-bench.jar)
i=2
for sv in h2:before h2:head postgres:head postgres:before; do
  s=${sv%%:*}; v=${sv##*:}
  i=$((i+1))
  java -jar ${JAR[$v]} storm --agents 10000 --store $s --seed 20261127 --protocol v2 --no-baselines --steady-seconds 2 --saturation-seconds 2 --converge-timeout 300 > /tmp/runs/d10k-$i-$s-$v.txt 2>/tmp/runs/d10k-$i-$s-$v.err
done
echo done > /tmp/runs/durable2.done
