import jdk.jfr.consumer.*;
import java.nio.file.*;
import java.time.*;
import java.util.*;
public class Collapse {
  public static void main(String[] a) throws Exception {
    LocalTime lo = LocalTime.parse(a[1]), hi = LocalTime.parse(a[2]);
    Map<String,Integer> out = new HashMap<>();
    try (RecordingFile f = new RecordingFile(Path.of(a[0]))) {
      while (f.hasMoreEvents()) {
        RecordedEvent e = f.readEvent();
        if (!e.getEventType().getName().equals("jdk.ExecutionSample")) continue;
        LocalTime t = LocalTime.ofInstant(e.getStartTime(), ZoneOffset.UTC);
        if (t.isBefore(lo) || !t.isBefore(hi)) continue;
        RecordedThread th = e.getThread("sampledThread");
        String tn = th == null ? "?" : (th.getJavaName() != null ? th.getJavaName() : th.getOSName());
        tn = tn == null ? "?" : tn.replaceAll("\\d+", "N");
        StringBuilder sb = new StringBuilder(tn);
        List<RecordedFrame> fr = e.getStackTrace() == null ? List.of() : e.getStackTrace().getFrames();
        for (int i = fr.size() - 1; i >= 0; i--) {
          RecordedMethod m = fr.get(i).getMethod();
          sb.append(';').append(m.getType().getName().replace(';','_')).append('.').append(m.getName());
        }
        out.merge(sb.toString(), 1, Integer::sum);
      }
    }
    for (var en : out.entrySet()) System.out.println(en.getKey() + " " + en.getValue());
  }
}
