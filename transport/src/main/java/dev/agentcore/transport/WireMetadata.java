package dev.agentcore.transport;

import dev.agentcore.core.AgentcoreException;
import dev.agentcore.core.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.rsocket.metadata.AuthMetadataCodec;
import io.rsocket.metadata.CompositeMetadata;
import io.rsocket.metadata.CompositeMetadataCodec;
import io.rsocket.metadata.RoutingMetadata;
import io.rsocket.metadata.TaggingMetadataCodec;
import io.rsocket.metadata.WellKnownAuthType;
import io.rsocket.metadata.WellKnownMimeType;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

/** Composite metadata as agentcore uses it: a route and, in SETUP, a bearer token. */
final class WireMetadata {

    static final String COMPOSITE = WellKnownMimeType.MESSAGE_RSOCKET_COMPOSITE_METADATA.getString();
    private static final String ROUTING = WellKnownMimeType.MESSAGE_RSOCKET_ROUTING.getString();
    private static final String AUTHENTICATION = WellKnownMimeType.MESSAGE_RSOCKET_AUTHENTICATION.getString();
    private static final ByteBufAllocator ALLOCATOR = UnpooledByteBufAllocator.DEFAULT;

    private WireMetadata() {
    }

    /** Composite metadata with a route and, if given, a bearer token. */
    static byte[] encode(String route, String bearerToken) {
        CompositeByteBuf composite = ALLOCATOR.compositeBuffer();
        try {
            if (route != null) {
                RoutingMetadata routing = TaggingMetadataCodec.createRoutingMetadata(ALLOCATOR, List.of(route));
                CompositeMetadataCodec.encodeAndAddMetadata(composite, ALLOCATOR, WellKnownMimeType.MESSAGE_RSOCKET_ROUTING,
                        routing.getContent());
            }
            if (bearerToken != null) {
                ByteBuf auth = AuthMetadataCodec.encodeBearerMetadata(ALLOCATOR, bearerToken.toCharArray());
                CompositeMetadataCodec.encodeAndAddMetadata(composite, ALLOCATOR,
                        WellKnownMimeType.MESSAGE_RSOCKET_AUTHENTICATION, auth);
            }
            return ByteBufUtil.getBytes(composite);
        } finally {
            composite.release();
        }
    }

    /** The route in composite metadata; INVALID_ARGUMENT when there is none or it is malformed. */
    static String route(ByteBuf metadata) {
        try {
            for (CompositeMetadata.Entry entry : new CompositeMetadata(metadata.slice(), false)) {
                if (ROUTING.equals(entry.getMimeType())) {
                    Iterator<String> tags = new RoutingMetadata(entry.getContent()).iterator();
                    if (tags.hasNext()) {
                        return tags.next();
                    }
                }
            }
        } catch (RuntimeException malformed) {
            throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT,
                    "metadata is not valid composite metadata (" + COMPOSITE + "): " + malformed.getMessage());
        }
        throw new AgentcoreException(ErrorCode.INVALID_ARGUMENT,
                "metadata has no route: send composite metadata with a " + ROUTING + " entry");
    }

    /** The bearer token in composite metadata, if any. Malformed metadata has none. */
    static Optional<String> bearerToken(ByteBuf metadata) {
        if (metadata == null || !metadata.isReadable()) {
            return Optional.empty();
        }
        try {
            for (CompositeMetadata.Entry entry : new CompositeMetadata(metadata.slice(), false)) {
                if (AUTHENTICATION.equals(entry.getMimeType())) {
                    ByteBuf content = entry.getContent().slice();
                    if (AuthMetadataCodec.isWellKnownAuthType(content)
                            && AuthMetadataCodec.readWellKnownAuthType(content) == WellKnownAuthType.BEARER) {
                        return Optional.of(new String(AuthMetadataCodec.readBearerTokenAsCharArray(content)));
                    }
                }
            }
        } catch (RuntimeException malformed) {
            throw new AgentcoreException(ErrorCode.UNAUTHENTICATED, "SETUP metadata is not valid composite metadata");
        }
        return Optional.empty();
    }
}
