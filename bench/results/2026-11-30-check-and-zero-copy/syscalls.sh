#!/bin/bash
cd /work/main
java -jar bench/target/agentcore-bench.jar storm --agents 10000 --store mem --seed 20261127 --protocol v2 --no-baselines --steady-seconds 2 --saturation-seconds 2 --boundaries 4 > /tmp/prof/perf-run.txt 2> >(while IFS= read -r l; do echo "$(date -u +%H:%M:%S.%N | cut -c1-12) $l"; done > /tmp/prof/perf-run.err) &
HP=$!
for i in $(seq 1 100); do grep -q "control plane pid" /tmp/prof/perf-run.err 2>/dev/null && break; sleep 0.2; done
CPP=$(grep -o "control plane pid [0-9]*" /tmp/prof/perf-run.err | awk '{print $4}')
HJ=$(pgrep -f "agentcore-bench.jar storm" | head -1)
date -u +%H:%M:%S.%N > /tmp/prof/perf-start.txt
perf stat -I 250 -x, -e syscalls:sys_enter_writev,syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex -p $CPP -o /tmp/prof/perf-cp.csv &
PC=$!
perf stat -I 250 -x, -e syscalls:sys_enter_writev,syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex -p $HJ -o /tmp/prof/perf-h.csv &
PH=$!
wait $HP
kill -INT $PC $PH 2>/dev/null
echo done >> /tmp/prof/perf-run.txt
