"""CPU per event by kind, from collapsed stacks (bench/results/2026-11-29-h2-validation/Collapse.java
cuts an async-profiler JFR to a time window). Usage: per-update.py FILE EVENTS_PER_SECOND [FILE RATE ...],
each FILE covering 10 s. Samples of the event loops are put under the kind of their innermost frame
(any stack through Netty's leak detector counts as leakdetect); other threads are counted by name
("[tid=N]" are the JVM's own threads: on these runs, G1's concurrent refinement)."""
import sys,collections
# self-time categories per event: file, events_per_sec (over 10 s window)
def cat(fr):
    if fr.startswith('.') : return 'kernel'
    if fr.startswith('lib') or fr.startswith('so.') : return 'jvm-native'
    for p,c in [('io.netty.util.ResourceLeak','leakdetect'),('io.netty','netty'),('reactor.netty','reactor-netty'),('io.rsocket','rsocket'),('reactor.core','reactor'),('dev.agentcore.transport.proto','protobuf-gen'),('com.google.protobuf','protobuf'),('dev.agentcore','agentcore'),('java.','jdk'),('jdk.','jdk'),('sun.','jdk'),('io.micrometer','micrometer')]:
        if fr.startswith(p): return c
    return 'other'
for f,rate in zip(sys.argv[1::2], sys.argv[2::2]):
    rate=float(rate); c=collections.Counter(); tot=0
    for line in open(f):
        stack,n=line.rsplit(' ',1); n=int(n)
        fr=stack.split(';')
        th=fr[0]
        if not th.startswith('reactor-tcp-epoll'): 
            c['thread:'+th]+=n; tot+=n; continue
        # find innermost frame category; attribute leak detector inclusive
        if any('ResourceLeakDetector' in x for x in fr): c['leakdetect(incl)']+=n
        else: c[cat(fr[-1])]+=n
        tot+=n
    print(f, 'total samples', tot, ' us/event total', round(tot*1000/(10*rate),1))
    for k,n in c.most_common(40): print(f"   {k:30s} {n*1000/(10*rate):6.1f} us/event")
