/**
 * agentcore over RSocket: the agent's connector, the admin client and the control-plane server,
 * on TCP or WebSocket. The generated protobuf classes ({@code dev.agentcore.transport.proto.v1})
 * are not exported: the wire contract is the .proto, and no public signature uses them.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"}) // rsocket, reactor-netty, protobuf: stable Automatic-Module-Names
module dev.agentcore.transport {
    requires transitive dev.agentcore.core;
    // AdminClient.channel and ControlPlaneServer.Builder.adminChannelRoute, the extension point
    // for routes an embedding program adds, take RSocket payloads.
    requires transitive rsocket.core;
    requires rsocket.transport.netty;
    requires reactor.netty.core;
    requires reactor.netty.http;
    requires io.netty.buffer;
    requires io.netty.common;
    requires io.netty.transport;
    requires io.netty.handler;
    requires com.google.protobuf;
    // WireJson only: optional at run time.
    requires static com.google.protobuf.util;
    requires org.slf4j;
    // The failed-exchange limiter's bounded table of sources.
    requires com.github.benmanes.caffeine;
    // The server reads its process's open file descriptors to refuse connections before running out.
    requires java.management;
    requires jdk.management;

    exports dev.agentcore.transport;
}
