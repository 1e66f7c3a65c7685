package dev.agentcore.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * r2dbc-h2 binds a String parameter as a CLOB, which H2 compares with a VARCHAR column by
 * converting each value it reads: the store's statements give H2 its String parameters as VARCHAR.
 */
class H2StringParametersTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void eachStringParameterIsCastToVarcharAndNothingElse() {
        assertThat(R2dbcAgentStore.stringsAsVarchar("SELECT * FROM t WHERE a IN ($1, $2) AND b = $3 AND c = $10",
                "x", 7L, "y", 1, 2, 3, 4, 5, 6, "z"))
                .isEqualTo("SELECT * FROM t WHERE a IN (CAST($1 AS VARCHAR), $2) AND b = CAST($3 AS VARCHAR) "
                        + "AND c = CAST($10 AS VARCHAR)");
        assertThat(R2dbcAgentStore.stringsAsVarchar("UPDATE t SET a = $1 WHERE id = $2", R2dbcAgentStore.Null.STRING, 4L))
                .isEqualTo("UPDATE t SET a = $1 WHERE id = $2");
    }

    @Test
    void aStringParameterReachesH2AsVarcharNotAsAClob() {
        String url = "r2dbc:h2:mem:///" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        Connection connection = Mono.from(ConnectionFactories.get(url).create()).block(TIMEOUT);
        try {
            Object type = Flux.from(R2dbcAgentStore.statement(connection, "SELECT $1 AS v", "a workspace").execute())
                    .flatMap(result -> result.map((row, metadata) -> metadata.getColumnMetadata("v").getType().getName()))
                    .blockFirst(TIMEOUT);
            assertThat(type).isEqualTo("CHARACTER VARYING");
        } finally {
            Mono.from(connection.close()).block(TIMEOUT);
        }
    }
}
