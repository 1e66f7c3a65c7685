package dev.agentcore.transport;

import io.rsocket.transport.ClientTransport;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.transport.netty.client.WebsocketClientTransport;
import reactor.netty.http.client.HttpClient;
import reactor.netty.tcp.TcpClient;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * Where a control plane listens: RSocket over TCP or WebSocket, host and port.
 *
 * @param transport TCP or WEBSOCKET
 * @param host a host name or address
 * @param port 1 to 65535
 */
public record ControlPlaneAddress(Transport transport, String host, int port) {

    /** How RSocket frames travel. */
    public enum Transport { TCP, WEBSOCKET }

    public ControlPlaneAddress {
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port: 1 to 65535, was " + port);
        }
    }

    public static ControlPlaneAddress tcp(String host, int port) {
        return new ControlPlaneAddress(Transport.TCP, host, port);
    }

    public static ControlPlaneAddress tcp(InetSocketAddress address) {
        return tcp(address.getHostString(), address.getPort());
    }

    public static ControlPlaneAddress websocket(String host, int port) {
        return new ControlPlaneAddress(Transport.WEBSOCKET, host, port);
    }

    public static ControlPlaneAddress websocket(InetSocketAddress address) {
        return websocket(address.getHostString(), address.getPort());
    }

    /** Parses {@code HOST:PORT} (TCP), {@code tcp://HOST:PORT} or {@code ws://HOST:PORT}. */
    public static ControlPlaneAddress parse(String text) {
        Objects.requireNonNull(text, "text");
        Transport transport = Transport.TCP;
        String rest = text;
        if (text.startsWith("ws://")) {
            transport = Transport.WEBSOCKET;
            rest = text.substring(5);
        } else if (text.startsWith("tcp://")) {
            rest = text.substring(6);
        }
        int colon = rest.lastIndexOf(':');
        if (colon <= 0 || colon == rest.length() - 1) {
            throw new IllegalArgumentException("expected HOST:PORT, tcp://HOST:PORT or ws://HOST:PORT, was '" + text + "'");
        }
        try {
            return new ControlPlaneAddress(transport, rest.substring(0, colon), Integer.parseInt(rest.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port is not a number in '" + text + "'");
        }
    }

    ClientTransport clientTransport() {
        // Never pooled: reactor-netty's shared pool holds at most 500 connections per address and
        // queues the rest silently, so the 501st agent in one JVM would wait forever.
        return transport == Transport.TCP
                ? TcpClientTransport.create(TcpClient.newConnection().host(host).port(port))
                : WebsocketClientTransport.create(HttpClient.newConnection().host(host).port(port), "/");
    }

    @Override
    public String toString() {
        return (transport == Transport.TCP ? "tcp://" : "ws://") + host + ":" + port;
    }
}
