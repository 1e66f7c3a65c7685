import shark.*;
import java.io.File;
import java.util.*;

/** Object arrays and byte arrays grouped by the class of their referrer (2 levels), with total bytes. */
public class Arrs {
  public static void main(String[] a) throws Exception {
    CloseableHeapGraph g = HprofHeapGraph.Companion.openHeapGraph(new File(a[0]), null, HprofRecordTag.Companion.getRootTags());
    Map<Long, Long> referrer = new HashMap<>();
    Map<Long, String> classOf = new HashMap<>();
    Map<Long, Integer> sizeOf = new HashMap<>();
    var it = g.getObjects().iterator();
    while (it.hasNext()) {
      HeapObject o = it.next();
      long id = o.getObjectId();
      if (o instanceof HeapObject.HeapInstance inst) {
        classOf.put(id, inst.getInstanceClassName());
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
      }
    }
    Map<String, long[]> groups = new HashMap<>();
    for (var e : sizeOf.entrySet()) {
      long id = e.getKey();
      Long r = referrer.get(id);
      String h1 = r == null ? "ROOT" : classOf.getOrDefault(r, "?");
      Long r2 = r == null ? null : referrer.get(r);
      String h2 = r2 == null ? "ROOT" : classOf.getOrDefault(r2, "?");
      String key = classOf.get(id) + " <- " + h1 + " <- " + h2;
      long[] acc = groups.computeIfAbsent(key, k -> new long[2]);
      acc[0]++; acc[1] += e.getValue() + 16;
    }
    groups.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1])).limit(30)
        .forEach(e -> System.out.printf("%8d B %6d x  %s%n", e.getValue()[1], e.getValue()[0], e.getKey()));
  }
}
