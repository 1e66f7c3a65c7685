#!/bin/bash
set -u
rm -rf /tmp/st && mkdir -p /tmp/st/home && cd /tmp/st
tar xzf ${TARBALL:-/tmp/ci-check/dist/target/agentcore-0.1.0-SNAPSHOT.tar.gz}
export HOME=/tmp/st/home PATH=/tmp/st/agentcore-0.1.0-SNAPSHOT/bin:$PATH
agentcore control-plane --store mem 2> cp.log &
CP=$!
for i in $(seq 1 60); do grep -q "listening" cp.log 2>/dev/null && break; sleep 0.5; done
agentcore workspace create dev --startup-script "true" --identity-file dev.identity
agentcore build start dev
agentcore agent --identity-file dev.identity 2> agent.log &
AG=$!
agentcore wait dev
sleep 2
CPJ=$(pgrep -f "dev.agentcore.cli.AgentcoreCommand control-plane" | head -1)
[ -z "$CPJ" ] && CPJ=$(pgrep -f "control-plane --store mem" | grep -v "^$CP\$" | tail -1)
AGJ=$(pgrep -f "agent --identity-file" | tail -1)
echo "cp java $CPJ agent java $AGJ"
ss -tnp | grep -E "pid=($CPJ|$AGJ)," > sockets.txt
strace -f -tt -e trace=writev,write,sendto,sendmsg -p $CPJ -o cp-strace.txt &
ST=$!
strace -f -tt -e trace=writev,write,sendto,sendmsg -p $AGJ -o ag-strace.txt &
ST2=$!
sleep 2
date +%T.%N > mark.txt
agentcore build start dev
agentcore wait dev
sleep 1
kill $ST $ST2
kill $AG; wait $AG
kill $CP; wait $CP
