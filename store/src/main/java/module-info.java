/** agentcore's durable store: R2DBC on an embedded H2 file or PostgreSQL. */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"}) // r2dbc: stable Automatic-Module-Names
module dev.agentcore.store {
    requires transitive dev.agentcore.core;
    requires r2dbc.spi;
    requires r2dbc.pool;
    requires r2dbc.h2;
    requires r2dbc.postgresql;
    requires org.slf4j;

    exports dev.agentcore.store;
}
