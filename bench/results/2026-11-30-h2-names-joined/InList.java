import io.r2dbc.spi.*;
import reactor.core.publisher.*;
import java.util.*;

public class InList {
    static Connection c;
    static List<Object[]> rows(String sql, Object... v) {
        Statement s = c.createStatement(sql);
        for (int i = 0; i < v.length; i++) s.bind(i, v[i]);
        return Flux.from(s.execute()).flatMap(r -> r.map((row, md) -> {
            Object[] o = new Object[md.getColumnMetadatas().size()];
            for (int i = 0; i < o.length; i++) o[i] = row.get(i);
            return o;
        })).collectList().block();
    }
    static void exec(String sql) { Flux.from(c.createStatement(sql).execute()).flatMap(Result::getRowsUpdated).blockLast(); }
    static String ph(int from, int n, String fmt) {
        StringJoiner j = new StringJoiner(", ");
        for (int i = 0; i < n; i++) j.add(String.format(fmt, "$" + (from + i)));
        return j.toString();
    }
    public static void main(String[] a) {
        int ws = Integer.parseInt(a[0]), batch = Integer.parseInt(a[1]), iters = Integer.parseInt(a[2]);
        c = Mono.from(ConnectionFactories.get("r2dbc:h2:mem:///x;DB_CLOSE_DELAY=-1").create()).block();
        exec("CREATE TABLE agent_rows (id VARCHAR(64) PRIMARY KEY, workspace VARCHAR(64) NOT NULL, build_number BIGINT NOT NULL, active BOOLEAN NOT NULL, CONSTRAINT agent_rows_build UNIQUE (workspace, build_number))");
        StringBuilder ins = new StringBuilder();
        for (int w = 0; w < ws; w++) for (int b = 1; b <= 3; b++)
            exec("INSERT INTO agent_rows VALUES ('" + UUID.randomUUID() + "', 'ws-" + w + "', " + b + ", " + (b == 3) + ")");
        Random r = new Random(1);
        String[] variants = {
            "SELECT * FROM agent_rows WHERE workspace IN (%s) AND active = TRUE ORDER BY id FOR UPDATE|%s",
            "SELECT * FROM agent_rows WHERE workspace IN (%s) AND active = TRUE ORDER BY id FOR UPDATE|CAST(%s AS VARCHAR)",
            "SELECT r.* FROM agent_rows r JOIN (VALUES %s) AS w(name) ON r.workspace = w.name WHERE r.active = TRUE ORDER BY r.id FOR UPDATE|(CAST(%s AS VARCHAR))",
            "SELECT workspace, MAX(build_number) AS last_build FROM agent_rows WHERE workspace IN (%s) GROUP BY workspace|%s",
            "SELECT workspace, MAX(build_number) AS last_build FROM agent_rows WHERE workspace IN (%s) GROUP BY workspace|CAST(%s AS VARCHAR)",
            "SELECT r.workspace, MAX(r.build_number) AS last_build FROM agent_rows r JOIN (VALUES %s) AS w(name) ON r.workspace = w.name GROUP BY r.workspace|(CAST(%s AS VARCHAR))",
        };
        for (int round = 0; round < 5; round++) {
            for (String v : variants) {
                String[] p = v.split("\\|");
                String sql = String.format(p[0], ph(1, batch, p[1]));
                long t0 = System.nanoTime(); int n = 0;
                for (int i = 0; i < iters; i++) {
                    Object[] names = new Object[batch];
                    for (int k = 0; k < batch; k++) names[k] = "ws-" + r.nextInt(ws);
                    Mono.from(c.beginTransaction()).block();
                    n += rows(sql, names).size();
                    Mono.from(c.commitTransaction()).block();
                }
                System.out.printf("round %d %8.3f ms/query rows/q %.1f  %s%n", round, (System.nanoTime() - t0) / 1e6 / iters, n / (double) iters, p[0].substring(0, 70) + " / " + p[1]);
                if (round == 99) {
                    Object[] names = new Object[batch];
                    for (int k = 0; k < batch; k++) names[k] = "ws-" + k;
                    rows("EXPLAIN " + sql, names).forEach(x -> System.out.println("   " + x[0].toString().replace('\n', ' ')));
                }
            }
        }
    }
}
