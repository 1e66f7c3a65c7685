#!/bin/bash
J=/work/main/bench/target/agentcore-bench.jar
A="storm --agents 10000 --store mem --seed 20261127 --protocol v2 --no-baselines --steady-seconds 2 --saturation-seconds 2 --boundaries 4"
java -Xms8g -Xmx8g -XX:+AlwaysPreTouch -jar $J $A --control-plane-jvm "-Xms4g -Xmx4g -XX:+AlwaysPreTouch" > /tmp/runs/pt-1-pretouch.txt 2>/tmp/runs/pt-1-pretouch.err
java -Xmx8g -jar $J $A > /tmp/runs/pt-2-plain.txt 2>/tmp/runs/pt-2-plain.err
java -Xms8g -Xmx8g -XX:+AlwaysPreTouch -jar $J $A --control-plane-jvm "-Xms4g -Xmx4g -XX:+AlwaysPreTouch" > /tmp/runs/pt-3-pretouch.txt 2>/tmp/runs/pt-3-pretouch.err
java -Xmx8g -jar $J $A > /tmp/runs/pt-4-plain.txt 2>/tmp/runs/pt-4-plain.err
echo done > /tmp/runs/pretouch.done
