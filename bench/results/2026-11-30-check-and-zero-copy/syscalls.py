"""System calls per agent over the measured boundary of syscalls-10000 (perf stat -I 250 on each JVM,
started at the wall time in its first comment line, 00:48:56.461 UTC; the boundary ran from the end of the
check before it, 00:49:54.738, to its own line, 00:49:59.689, in syscalls-10000.err)."""
import datetime
start = datetime.datetime.strptime('00:48:56.461', '%H:%M:%S.%f')
def since(s): return (datetime.datetime.strptime(s, '%H:%M:%S.%f') - start).total_seconds()
lo, hi = since('00:49:54.738'), since('00:49:59.689')
for f in ['syscalls-10000-control-plane.csv', 'syscalls-10000-agents.csv']:
    total = {}
    for line in open(f):
        if line.startswith('#') or not line.strip(): continue
        p = line.strip().split(',')
        if lo + 0.25 <= float(p[0]) <= hi + 0.25:
            total[p[3]] = total.get(p[3], 0) + (int(p[1]) if p[1].isdigit() else 0)
    print(f, {k.split(':')[1]: round(v / 10000, 2) for k, v in total.items()}, 'per agent')
