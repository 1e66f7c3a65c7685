package dev.agentcore.transport;

import io.rsocket.transport.ClientTransport;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.transport.netty.client.WebsocketClientTransport;
import reactor.netty.http.client.HttpClient;
import reactor.netty.tcp.TcpClient;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * Where a control plane listens and how to reach it: RSocket over TCP or WebSocket, host and
 * port, in plaintext or over TLS.
 *
 * @param transport TCP or WEBSOCKET
 * @param host a host name or address (an IPv6 address without brackets)
 * @param port 1 to 65535
 * @param tls how to check the control plane's certificate; null for plaintext
 */
public record ControlPlaneAddress(Transport transport, String host, int port, ClientTls tls) {

    /** How RSocket frames travel. */
    public enum Transport { TCP, WEBSOCKET }

    public ControlPlaneAddress {
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(host, "host");
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("host: empty");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port: 1 to 65535, was " + port);
        }
    }

    /** A plaintext address. */
    public ControlPlaneAddress(Transport transport, String host, int port) {
        this(transport, host, port, null);
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

    /** The same place, reached over TLS with these settings. */
    public ControlPlaneAddress withTls(ClientTls tls) {
        return new ControlPlaneAddress(transport, host, port, Objects.requireNonNull(tls, "tls"));
    }

    /**
     * Parses {@code HOST:PORT} or {@code tcp://HOST:PORT} (TCP), {@code ws://HOST:PORT} (WebSocket),
     * {@code tls://HOST:PORT} (TCP over TLS) or {@code wss://HOST:PORT} (WebSocket over TLS); an IPv6
     * host in brackets ({@code [::1]:7878}). TLS addresses trust the JVM's trust store until
     * {@link #withTls} says otherwise.
     */
    public static ControlPlaneAddress parse(String text) {
        Objects.requireNonNull(text, "text");
        Transport transport = Transport.TCP;
        ClientTls tls = null;
        String rest = text;
        for (Scheme scheme : SCHEMES) {
            if (text.startsWith(scheme.prefix())) {
                rest = text.substring(scheme.prefix().length());
                transport = scheme.transport();
                tls = scheme.tls() ? ClientTls.SYSTEM_TRUST : null;
                break;
            }
        }
        int colon = rest.lastIndexOf(':');
        String host = colon <= 0 ? "" : rest.substring(0, colon);
        boolean bracketed = host.startsWith("[") && host.endsWith("]") && host.length() > 2;
        if (colon <= 0 || colon == rest.length() - 1 || (host.contains(":") && !bracketed)
                || (host.contains("[") && !bracketed)) {
            throw new IllegalArgumentException("expected HOST:PORT, tcp://HOST:PORT, ws://HOST:PORT, tls://HOST:PORT or "
                    + "wss://HOST:PORT (an IPv6 host in brackets: [::1]:7878), was '" + text + "'");
        }
        try {
            return new ControlPlaneAddress(transport, host, Integer.parseInt(rest.substring(colon + 1)), tls);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port is not a number in '" + text + "'");
        }
    }

    /** What an address's prefix says: how frames travel, and whether over TLS. */
    private record Scheme(String prefix, Transport transport, boolean tls) {
    }

    private static final List<Scheme> SCHEMES = List.of(new Scheme("tcp://", Transport.TCP, false),
            new Scheme("ws://", Transport.WEBSOCKET, false), new Scheme("tls://", Transport.TCP, true),
            new Scheme("wss://", Transport.WEBSOCKET, true));

    ClientTransport clientTransport() {
        // Never pooled: reactor-netty's shared pool holds at most 500 connections per address and
        // queues the rest silently, so the 501st agent in one JVM would wait forever.
        if (transport == Transport.TCP) {
            TcpClient client = TcpClient.newConnection().host(host).port(port);
            return TcpClientTransport.create(tls == null ? client : client.secure(spec -> spec.sslContext(tls.sslContext())));
        }
        HttpClient client = HttpClient.newConnection().host(host).port(port);
        return WebsocketClientTransport.create(tls == null ? client
                : client.secure(spec -> spec.sslContext(tls.sslContext())), "/");
    }

    @Override
    public String toString() {
        String scheme = transport == Transport.TCP ? (tls == null ? "tcp://" : "tls://") : (tls == null ? "ws://" : "wss://");
        return scheme + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
