import shark.*;
import java.io.File;
import java.util.*;

/** For each target class: group its instances by the chain of referrer classes (first 8 steps), with counts. */
public class Who2 {
  public static void main(String[] a) throws Exception {
    CloseableHeapGraph g = HprofHeapGraph.Companion.openHeapGraph(new File(a[0]), null, HprofRecordTag.Companion.getRootTags());
    Map<Long, Long> referrer = new HashMap<>();
    Map<Long, String> classOf = new HashMap<>();
    Map<String, List<Long>> byTarget = new HashMap<>();
    Set<String> targets = new HashSet<>(Arrays.asList(a).subList(2, a.length));
    int depth = Integer.parseInt(a[1]);
    var it = g.getObjects().iterator();
    while (it.hasNext()) {
      HeapObject o = it.next();
      long id = o.getObjectId();
      if (o instanceof HeapObject.HeapInstance inst) {
        String cn = inst.getInstanceClassName();
        classOf.put(id, cn);
        if (targets.contains(cn)) byTarget.computeIfAbsent(cn, k -> new ArrayList<>()).add(id);
        var fs = inst.readFields().iterator();
        while (fs.hasNext()) {
          Long ref = fs.next().getValue().getAsNonNullObjectId();
          if (ref != null) referrer.putIfAbsent(ref, id);
        }
      } else if (o instanceof HeapObject.HeapObjectArray arr) {
        classOf.put(id, arr.getArrayClassName());
        for (long ref : arr.readRecord().getElementIds()) if (ref != 0) referrer.putIfAbsent(ref, id);
      } else if (o instanceof HeapObject.HeapClass c) {
        classOf.put(id, "class " + c.getName());
      }
    }
    for (var e : byTarget.entrySet()) {
      Map<String, Integer> chains = new HashMap<>();
      for (long s : e.getValue()) {
        StringBuilder sb = new StringBuilder();
        long cur = s; Set<Long> seen = new HashSet<>();
        for (int i = 0; i < depth && seen.add(cur); i++) {
          Long r = referrer.get(cur);
          if (r == null) { sb.append(" <- ROOT?"); break; }
          cur = r;
          sb.append(" <- ").append(classOf.getOrDefault(cur, "?").replace("reactor.core.publisher.", "r.").replace("io.rsocket.", "rs.").replace("dev.agentcore.", "ac.").replaceAll("\\$\\$Lambda.*", "_L"));
        }
        chains.merge(sb.toString(), 1, Integer::sum);
      }
      System.out.println("== " + e.getKey() + " (" + e.getValue().size() + ")");
      chains.entrySet().stream().sorted((x, y) -> y.getValue() - x.getValue()).limit(8).forEach(c -> System.out.println(c.getValue() + "x" + c.getKey()));
    }
  }
}
