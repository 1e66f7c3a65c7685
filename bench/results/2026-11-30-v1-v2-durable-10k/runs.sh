#!/usr/bin/env bash
# 10,000 agents on H2 and PostgreSQL, protocol v1 beside v2, one sitting, nothing else running.
# JAR: the bench jar built from the commit named in README.md here.
set -u
JAR=${JAR:-/tmp/bench-now.jar}
for run in "1 h2 v1" "2 h2 v2" "3 postgres v1" "4 postgres v2"; do
  set -- $run
  java -jar "$JAR" storm --agents 10000 --store "$2" --seed 20261127 --protocol "$3" --no-baselines \
      --converge-timeout 300 --json "r$1-$2-$3.json" > "r$1-$2-$3.txt" 2> "r$1-$2-$3.err"
  echo "run $1 ($2, $3): exit $?"
done
