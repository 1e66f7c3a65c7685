"""Samples of a collapsed-stack file (Collapse.java of 2026-11-29-h2-validation, cut to the measured
boundary) by kind: the event loops' samples under the library of their innermost frame (any stack
through Netty's leak detector as leakdetect), other threads by name ([tid=N]: the JVM's own threads,
G1's concurrent refinement on these runs). Usage: breakdown.py FILE..."""
import sys, collections
def kind(frame):
    if frame.startswith('.') or frame.startswith('[k'): return 'kernel'
    if frame.startswith('lib') or frame.startswith('so.'): return 'jvm-native'
    for prefix, name in [('io.netty.util.ResourceLeak', 'leakdetect'), ('io.netty', 'netty'), ('reactor.netty', 'reactor-netty'),
                         ('io.rsocket', 'rsocket'), ('reactor.core', 'reactor'), ('dev.agentcore.transport.proto', 'protobuf-gen'),
                         ('com.google.protobuf', 'protobuf'), ('dev.agentcore', 'agentcore'), ('java.', 'jdk'), ('jdk.', 'jdk'),
                         ('sun.', 'jdk'), ('io.micrometer', 'micrometer')]:
        if frame.startswith(prefix): return name
    return 'other'
for f in sys.argv[1:]:
    counts = collections.Counter(); total = 0
    for line in open(f):
        stack, n = line.rsplit(' ', 1); n = int(n); frames = stack.split(';'); thread = frames[0]
        total += n
        if not thread.startswith('reactor-tcp-epoll'):
            counts['thread:' + thread] += n
        elif any('ResourceLeakDetector' in x for x in frames):
            counts['leakdetect(incl)'] += n
        else:
            counts[kind(frames[-1])] += n
    print(f, 'samples', total)
    for k, n in counts.most_common(20): print(f"  {k:32s} {100 * n / total:5.1f}%")
