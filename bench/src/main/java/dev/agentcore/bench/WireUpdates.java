package dev.agentcore.bench;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.agentcore.core.ChainId;
import dev.agentcore.core.LifecycleState;
import dev.agentcore.core.LifecycleUpdate;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * A LifecycleUpdate in its wire form, through the schema's public generated classes: what an
 * agent sends, for the echo baseline's payloads and the codec micro-benchmark. The transport's
 * own codec is package-private; this one writes the same fields and reads them back with the
 * same checks on chain and seq, so the two cost the same protobuf work.
 */
public final class WireUpdates {

    private WireUpdates() {
    }

    public static byte[] encode(LifecycleUpdate update) {
        var message = dev.agentcore.transport.proto.v1.LifecycleUpdate.newBuilder()
                .setChain(dev.agentcore.transport.proto.v1.ChainId.newBuilder()
                        .setIncarnation(update.chain().incarnation())
                        .setGeneration(update.chain().generation()))
                .setSeq(update.seq())
                .setState(dev.agentcore.transport.proto.v1.LifecycleState.valueOf(update.state().name()))
                .setReplay(update.replay());
        if (update.changedAt() != null) {
            message.setChangedAt(timestamp(update.changedAt()));
        }
        if (update.originalChangedAt() != null) {
            message.setOriginalChangedAt(timestamp(update.originalChangedAt()));
        }
        return message.build().toByteArray();
    }

    public static LifecycleUpdate decode(ByteBuffer data) {
        try {
            var message = dev.agentcore.transport.proto.v1.LifecycleUpdate.parseFrom(data);
            if (!message.hasChain() || message.getSeq() < 1) {
                throw new IllegalArgumentException("no chain, or seq below 1");
            }
            return new LifecycleUpdate(new ChainId(message.getChain().getIncarnation(), message.getChain().getGeneration()),
                    message.getSeq(), LifecycleState.valueOf(message.getState().name()),
                    message.hasChangedAt() ? instant(message.getChangedAt()) : null, message.getReplay(),
                    message.hasOriginalChangedAt() ? instant(message.getOriginalChangedAt()) : null);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("not a LifecycleUpdate", e);
        }
    }

    private static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    private static Instant instant(Timestamp timestamp) {
        return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
    }
}
