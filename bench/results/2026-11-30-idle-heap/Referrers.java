import shark.*;
import java.io.File;
import java.util.*;

/**
 * What keeps objects alive in a heap dump, by the classes of their referrers.
 * {@code Referrers DUMP chains DEPTH CLASS...}: each instance of each CLASS, grouped by the chain of
 * its referrers' classes (DEPTH steps, the first referrer found at each step).
 * {@code Referrers DUMP arrays}: arrays grouped by their referrer's and its referrer's class, with bytes.
 */
public class Referrers {
  public static void main(String[] a) throws Exception {
    CloseableHeapGraph g = HprofHeapGraph.Companion.openHeapGraph(new File(a[0]), null, HprofRecordTag.Companion.getRootTags());
    boolean arrays = a[1].equals("arrays");
    int depth = arrays ? 2 : Integer.parseInt(a[2]);
    Set<String> targets = arrays ? Set.of() : new HashSet<>(Arrays.asList(a).subList(3, a.length));
    Map<Long, Long> referrer = new HashMap<>();
    Map<Long, String> classOf = new HashMap<>();
    Map<Long, Integer> sizeOf = new HashMap<>();
    Map<String, List<Long>> byTarget = new HashMap<>();
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
        sizeOf.put(id, arr.getByteSize());
        for (long ref : arr.readRecord().getElementIds()) if (ref != 0) referrer.putIfAbsent(ref, id);
      } else if (o instanceof HeapObject.HeapPrimitiveArray arr) {
        classOf.put(id, arr.getArrayClassName());
        sizeOf.put(id, arr.getByteSize());
      } else if (o instanceof HeapObject.HeapClass c) {
        classOf.put(id, "class " + c.getName());
      }
    }
    if (arrays) {
      Map<String, long[]> groups = new HashMap<>();
      for (var e : sizeOf.entrySet()) {
        long[] acc = groups.computeIfAbsent(classOf.get(e.getKey()) + chain(e.getKey(), depth, referrer, classOf), k -> new long[2]);
        acc[0]++;
        acc[1] += e.getValue() + 16;
      }
      groups.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1])).limit(30)
          .forEach(e -> System.out.printf("%8d B %6d x  %s%n", e.getValue()[1], e.getValue()[0], e.getKey()));
      return;
    }
    for (var e : byTarget.entrySet()) {
      Map<String, Integer> chains = new HashMap<>();
      for (long s : e.getValue()) chains.merge(chain(s, depth, referrer, classOf), 1, Integer::sum);
      System.out.println("== " + e.getKey() + " (" + e.getValue().size() + ")");
      chains.entrySet().stream().sorted((x, y) -> y.getValue() - x.getValue()).limit(8)
          .forEach(c -> System.out.println(c.getValue() + "x" + c.getKey()));
    }
  }

  /** " <- referrer's class <- its referrer's class ..." for {@code depth} steps. */
  static String chain(long id, int depth, Map<Long, Long> referrer, Map<Long, String> classOf) {
    StringBuilder sb = new StringBuilder();
    long cur = id;
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < depth && seen.add(cur); i++) {
      Long r = referrer.get(cur);
      if (r == null) {
        sb.append(" <- ROOT?");
        break;
      }
      cur = r;
      sb.append(" <- ").append(classOf.getOrDefault(cur, "?").replace("reactor.core.publisher.", "r.")
          .replace("io.rsocket.", "rs.").replace("dev.agentcore.", "ac.").replaceAll("\\$\\$Lambda.*", "_L"));
    }
    return sb.toString();
  }
}
