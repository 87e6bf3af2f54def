package io.paddock.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes the protobuf wire format, for building SentencePiece models in tests. */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ProtoWriter varint(int field, long value) {
        tag(field, ProtoReader.VARINT);
        raw(value);
        return this;
    }

    ProtoWriter float32(int field, float value) {
        tag(field, ProtoReader.FIXED32);
        int bits = Float.floatToIntBits(value);
        for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i));
        return this;
    }

    ProtoWriter string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    ProtoWriter message(int field, ProtoWriter message) {
        return bytes(field, message.toByteArray());
    }

    ProtoWriter bytes(int field, byte[] value) {
        tag(field, ProtoReader.LENGTH_DELIMITED);
        raw(value.length);
        out.writeBytes(value);
        return this;
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    private void tag(int field, int wireType) {
        raw(((long) field << 3) | wireType);
    }

    private void raw(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }
}
