package io.paddock.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The GPTQ bit-stream packing (AutoGPTQ and GPTQ-for-LLaMa): the values of one packed line form a little-endian
 * bit stream over consecutive int32 words, value j in stream bits [j·bits, (j+1)·bits), word k holding stream
 * bits [32k, 32k+32). For 2/4/8 bits a word holds 16/8/4 whole values; for 3 bits 32 values fill 3 words and
 * values 10 and 21 straddle word boundaries.
 *
 * <p>A "line" is a column of {@code qweight} (int32 [in·bits/32, out], packed along in, so consecutive words of a
 * line are {@code out} words apart) or a row of {@code qzeros} (int32 [groups, out·bits/32], packed along out,
 * consecutive words adjacent). {@code stride} is that distance in words.
 */
public final class GptqPacking {
    private GptqPacking() {}

    public static void checkBits(int bits) {
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new IllegalArgumentException("GPTQ bits must be 2, 3, 4 or 8, got " + bits);
        }
    }

    /** Number of int32 words a line of {@code count} values takes (count must fill whole words). */
    public static int wordsFor(int count, int bits) {
        long totalBits = (long) count * bits;
        if (totalBits % 32 != 0) {
            throw new IllegalArgumentException(count + " values of " + bits + " bits do not fill whole int32 words");
        }
        return (int) (totalBits / 32);
    }

    /** Value {@code j} of the line whose word k is {@code words[first + k·stride]}. */
    public static int extract(int[] words, int first, int stride, int bits, int j) {
        long bit = (long) j * bits;
        int k = (int) (bit >>> 5), shift = (int) (bit & 31);
        int v = words[first + k * stride] >>> shift;
        if (shift + bits > 32) v |= words[first + (k + 1) * stride] << (32 - shift);
        return v & ((1 << bits) - 1);
    }

    /** The same over a little-endian int32 tensor in a (mapped) segment; word indices are element indices. */
    public static int extract(MemorySegment words, long first, long stride, int bits, long j) {
        long bit = j * bits;
        long k = bit >>> 5;
        int shift = (int) (bit & 31);
        int v = words.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * (first + k * stride)) >>> shift;
        if (shift + bits > 32) {
            v |= words.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * (first + (k + 1) * stride)) << (32 - shift);
        }
        return v & ((1 << bits) - 1);
    }

    /** Packs {@code count} values (each below 2^bits) into the line whose word k is {@code words[first + k·stride]}. */
    public static void pack(int[] values, int valuesOff, int count, int bits, int[] words, int first, int stride) {
        checkBits(bits);
        int nWords = wordsFor(count, bits);
        for (int k = 0; k < nWords; k++) words[first + k * stride] = 0;
        int mask = (1 << bits) - 1;
        for (int j = 0; j < count; j++) {
            int v = values[valuesOff + j];
            if ((v & ~mask) != 0) throw new IllegalArgumentException("value " + v + " does not fit in " + bits + " bits");
            long bit = (long) j * bits;
            int k = (int) (bit >>> 5), shift = (int) (bit & 31);
            words[first + k * stride] |= v << shift;
            if (shift + bits > 32) words[first + (k + 1) * stride] |= v >>> (32 - shift);
        }
    }
}
