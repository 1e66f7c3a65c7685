import sys,collections
f=sys.argv[1]; pref=sys.argv[2] if len(sys.argv)>2 else ''
thr=sys.argv[3] if len(sys.argv)>3 else 'reactor-tcp-epoll'
c=collections.Counter(); tot=0
for line in open(f):
    stack,n=line.rsplit(' ',1); n=int(n); fr=stack.split(';')
    if not fr[0].startswith(thr): continue
    tot+=n
    for m in set(fr[1:]):
        if m.startswith(pref): c[m]+=n
print('total',tot)
for k,n in c.most_common(int(sys.argv[4]) if len(sys.argv)>4 else 60): print(f"{n:6d} {100*n/tot:5.1f}% {k}")
