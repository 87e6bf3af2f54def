package io.paddock.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the protobuf wire format (varint, 64-bit, length-delimited, 32-bit fields), just enough for
 * SentencePiece's {@code ModelProto}; no protobuf library needed.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final byte[] buf;
    private int pos;
    private final int limit;
    private int tag;

    ProtoReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    private ProtoReader(byte[] buf, int pos, int limit) {
        this.buf = buf;
        this.pos = pos;
        this.limit = limit;
    }

    /** Advances to the next field; false at the end of the message. */
    boolean next() {
        if (pos >= limit) return false;
        long t = readVarint();
        if (t >>> 3 == 0 || t > Integer.MAX_VALUE) throw error("bad field tag " + t);
        tag = (int) t;
        return true;
    }

    int field() {
        return tag >>> 3;
    }

    int wireType() {
        return tag & 7;
    }

    long varint() {
        expect(VARINT);
        return readVarint();
    }

    boolean bool() {
        return varint() != 0;
    }

    /** An int32 field: negative values are sign-extended 10-byte varints. */
    int int32() {
        return (int) varint();
    }

    float float32() {
        expect(FIXED32);
        need(4);
        int bits = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return Float.intBitsToFloat(bits);
    }

    String string() {
        int len = lengthPrefix();
        String s = new String(buf, pos, len, StandardCharsets.UTF_8);
        pos += len;
        return s;
    }

    byte[] bytes() {
        int len = lengthPrefix();
        byte[] b = Arrays.copyOfRange(buf, pos, pos + len);
        pos += len;
        return b;
    }

    ProtoReader message() {
        int len = lengthPrefix();
        var sub = new ProtoReader(buf, pos, pos + len);
        pos += len;
        return sub;
    }

    void skip() {
        switch (wireType()) {
            case VARINT -> readVarint();
            case FIXED64 -> advance(8);
            case LENGTH_DELIMITED -> advance(lengthPrefix());
            case FIXED32 -> advance(4);
            default -> throw error("unsupported wire type " + wireType() + " for field " + field());
        }
    }

    private int lengthPrefix() {
        expect(LENGTH_DELIMITED);
        long len = readVarint();
        if (len < 0 || len > limit - pos) throw error("truncated message: field " + field() + " needs " + len + " bytes, " + (limit - pos) + " left");
        return (int) len;
    }

    private void advance(int n) {
        need(n);
        pos += n;
    }

    private long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            need(1);
            byte b = buf[pos++];
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) return result;
        }
        throw error("varint longer than 10 bytes");
    }

    private void expect(int wireType) {
        if (wireType() != wireType) {
            throw error("field " + field() + " has wire type " + wireType() + ", expected " + wireType);
        }
    }

    private void need(int n) {
        if (n > limit - pos) throw error("truncated message");
    }

    private IllegalArgumentException error(String msg) {
        return new IllegalArgumentException("protobuf: " + msg + " at byte " + pos);
    }
}
