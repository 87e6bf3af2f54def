package io.paddock.bench;

import io.paddock.format.SafetensorsWriter.TensorBytes;
import io.paddock.model.GptqPacking;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Byte sources for synthetic tensors, each generated chunk by chunk as the file is written so that nothing larger
 * than one chunk is ever on the heap. Every source seeds its own generator from the checkpoint seed and the tensor
 * name, so a tensor's bytes do not depend on which other tensors (or how many layers) the file holds.
 */
final class SyntheticValues {
    private static final int CHUNK = 1 << 20;
    private static final short F16_ONE = 0x3C00;

    /**
     * 65536 draws of N(0, 1). Box–Muller per value would cost more than writing the bytes (a 7B F16 file has 6.7G
     * values); indexing this table with 16 random bits keeps generation far below disk speed and still gives
     * normally distributed, deterministic values.
     */
    private final float[] gaussian = new float[1 << 16];
    private final long seed;

    SyntheticValues(long seed) {
        this.seed = seed;
        SplittableRandom r = new SplittableRandom(seed ^ 0x6A09E667F3BCC909L);
        for (int i = 0; i < gaussian.length; i++) {
            double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
            gaussian[i] = (float) (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
    }

    SplittableRandom random(String tensorName) {
        return new SplittableRandom(seed ^ (tensorName.hashCode() * 0x9E3779B97F4A7C15L));
    }

    /**
     * Uniform random int32 words. For GPTQ's qweight this is exactly "every code uniform in [0, 2^bits)", for all
     * widths: a packed line is a plain bit stream, and 3-bit lines of 32 codes fill their 3 words completely.
     */
    TensorBytes randomWords(String name, long bytes) {
        return out -> {
            SplittableRandom r = random(name);
            fill(out, bytes, buf -> {
                while (buf.remaining() >= 8) buf.putLong(r.nextLong());
                while (buf.hasRemaining()) buf.put((byte) r.nextInt());
            });
        };
    }

    /** F16 values N(0, std²), {@code count} of them. */
    TensorBytes gaussianF16(String name, long count, double std) {
        short[] table = new short[gaussian.length];
        for (int i = 0; i < table.length; i++) table[i] = Float.floatToFloat16((float) (gaussian[i] * std));
        return out -> {
            SplittableRandom r = random(name);
            fill(out, count * 2, buf -> {
                while (buf.remaining() >= 8) {
                    long bits = r.nextLong();
                    for (int k = 0; k < 4; k++, bits >>>= 16) buf.putShort(table[(int) (bits & 0xFFFF)]);
                }
                while (buf.hasRemaining()) buf.putShort(table[r.nextInt(1 << 16)]);
            });
        };
    }

    /** GPTQ scales: positive, |N(0, 1)| · 0.01 / 2^bits, never zero. */
    TensorBytes scales(String name, long count, int bits) {
        double k = 0.01 / (1 << bits);
        short[] table = new short[gaussian.length];
        for (int i = 0; i < table.length; i++) {
            table[i] = Float.floatToFloat16((float) Math.max(Math.abs(gaussian[i]) * k, k / 64));
        }
        return out -> {
            SplittableRandom r = random(name);
            fill(out, count * 2, buf -> {
                while (buf.hasRemaining()) buf.putShort(table[r.nextInt(1 << 16)]);
            });
        };
    }

    /** F16 ones (RMSNorm weights). */
    static TensorBytes onesF16(long count) {
        return out -> fill(out, count * 2, buf -> {
            while (buf.hasRemaining()) buf.putShort(F16_ONE);
        });
    }

    /**
     * qzeros (groups, out·bits/32): every zero point 2^(bits−1) (symmetric), stored as AutoGPTQ's legacy
     * "zero − 1", so every packed value is 2^(bits−1) − 1.
     */
    static TensorBytes zeros(int groups, int out, int bits) {
        int[] values = new int[out];
        Arrays.fill(values, (1 << (bits - 1)) - 1);
        int[] row = new int[GptqPacking.wordsFor(out, bits)];
        GptqPacking.pack(values, 0, out, bits, row, 0, 1);
        return o -> {
            ByteBuffer buf = ByteBuffer.allocate(row.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int w : row) buf.putInt(w);
            for (int g = 0; g < groups; g++) {
                buf.flip();
                while (buf.hasRemaining()) o.write(buf);
                buf.position(buf.limit());
            }
        };
    }

    /**
     * g_idx (in): i / groupSize, or with act-order the group of each feature under a random quantization order,
     * i.e. exactly groupSize features per group scattered over the inputs, as AutoGPTQ's desc_act produces.
     */
    int[] groupIndex(String name, int in, int groupSize, boolean actOrder) {
        int[] g = new int[in];
        if (groupSize == -1) return g;
        if (!actOrder) {
            for (int i = 0; i < in; i++) g[i] = i / groupSize;
            return g;
        }
        int[] order = new int[in];
        for (int i = 0; i < in; i++) order[i] = i;
        SplittableRandom r = random(name);
        for (int i = in - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int j = 0; j < in; j++) g[order[j]] = j / groupSize;
        return g;
    }

    TensorBytes groupIndexBytes(String name, int in, int groupSize, boolean actOrder) {
        return out -> {
            int[] g = groupIndex(name, in, groupSize, actOrder);
            ByteBuffer buf = ByteBuffer.allocate(in * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : g) buf.putInt(v);
            buf.flip();
            while (buf.hasRemaining()) out.write(buf);
        };
    }

    @FunctionalInterface
    private interface ChunkFiller {
        void fill(ByteBuffer buf);
    }

    /** Streams {@code bytes} bytes in chunks; {@code filler} fills each chunk completely. */
    private static void fill(WritableByteChannel out, long bytes, ChunkFiller filler) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect((int) Math.min(CHUNK, Math.max(bytes, 8)))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (long done = 0; done < bytes; ) {
            int n = (int) Math.min(buf.capacity(), bytes - done);
            buf.clear().limit(n);
            filler.fill(buf);
            buf.flip();
            while (buf.hasRemaining()) out.write(buf);
            done += n;
        }
    }
}
