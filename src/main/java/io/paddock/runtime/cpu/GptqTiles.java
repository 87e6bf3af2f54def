package io.paddock.runtime.cpu;

import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.S2F;
import static jdk.incubator.vector.VectorOperators.S2I;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GPTQ tile kernels: one output block ({@link GptqMatrix#LANES} outputs, one float vector) over the whole
 * input, for one or four batch rows, one method per bit width. Each walks the block's stream (see
 * {@link GptqMatrix}) group by group.
 *
 * <p>Hot loop, per packed word and output vector: for every piece of the word ({@link GptqPieces}) one AND (or
 * an unsigned shift for the topmost piece), one int-to-float conversion and one FMA with the broadcast,
 * pre-scaled activation; no per-weight shift, subtraction or scale. Four accumulators (batch 1) or two per row
 * (batch 4) keep enough independent FMA chains in flight. Per group: acc − zero·Σx, times the scale, into the
 * output vector. Scales are widened from f16 with the bit trick of {@link MatMulF16} (times 2^112, exact).
 *
 * <p>The piece statements are written out rather than looped over a mask table so every mask is an immediate
 * the JIT hoists into a register; and everything is inside one method because a helper taking or returning
 * vectors that C2 declines to inline boxes them (see {@link MatMulF16}).
 */
final class GptqTiles {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final int LANES = S.length();
    private static final long RB = 4L * LANES;       // bytes of one packed row (one int per output lane)
    private static final long MB = 4L * LANES;       // bytes of a group's meta record
    private static final long HB = 2L * LANES;       // offset of the zeros inside the meta record
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private GptqTiles() {}

    /** 2-bit codes, one batch row: y[yo + l] for output lanes l < valid. */
    static void b1q2(MemorySegment t, long off, int[] units, float[] xs, int xi, float[] sx, int si, float[] y, int yo, int valid) {
        FloatVector acc = FloatVector.zero(S);
        for (int g = 0; g < units.length; g++) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            long qo = off + MB;
            int n = units[g];
            for (int u = 0; u < n; u++) {   // hot loop: 16 codes x LANES outputs per unit
                long o = qo + (long) u * RB;
                int x = xi + u * 16;
                IntVector v0 = IntVector.fromMemorySegment(I, t, o, LE);
                a0 = ((FloatVector) v0.and(0x3).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x]), a0);
                a1 = ((FloatVector) v0.and(0xC).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 1]), a1);
                a2 = ((FloatVector) v0.and(0x30).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 2]), a2);
                a3 = ((FloatVector) v0.and(0xC0).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 3]), a3);
                a0 = ((FloatVector) v0.and(0x300).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 4]), a0);
                a1 = ((FloatVector) v0.and(0xC00).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 5]), a1);
                a2 = ((FloatVector) v0.and(0x3000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 6]), a2);
                a3 = ((FloatVector) v0.and(0xC000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 7]), a3);
                a0 = ((FloatVector) v0.and(0x30000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 8]), a0);
                a1 = ((FloatVector) v0.and(0xC0000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 9]), a1);
                a2 = ((FloatVector) v0.and(0x300000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 10]), a2);
                a3 = ((FloatVector) v0.and(0xC00000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 11]), a3);
                a0 = ((FloatVector) v0.and(0x3000000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 12]), a0);
                a1 = ((FloatVector) v0.and(0xC000000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 13]), a1);
                a2 = ((FloatVector) v0.and(0x30000000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 14]), a2);
                a3 = ((FloatVector) v0.lanewise(LSHR, 30).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 15]), a3);
            }
            FloatVector scale = ((IntVector) ShortVector.fromMemorySegment(H, t, off, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            FloatVector zero = (FloatVector) ShortVector.fromMemorySegment(H, t, off + HB, LE).convertShape(S2F, S, 0);
            acc = zero.fma(FloatVector.broadcast(S, -sx[si + g]), a0.add(a1).add(a2.add(a3))).fma(scale, acc);
            off = qo + (long) n * RB;
            xi += n * 16;
        }
        if (valid == LANES) acc.intoArray(y, yo); else acc.intoArray(y, yo, S.indexInRange(0, valid));
    }

    /** 3-bit codes, one batch row: y[yo + l] for output lanes l < valid. */
    static void b1q3(MemorySegment t, long off, int[] units, float[] xs, int xi, float[] sx, int si, float[] y, int yo, int valid) {
        FloatVector acc = FloatVector.zero(S);
        for (int g = 0; g < units.length; g++) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            long qo = off + MB;
            int n = units[g];
            for (int u = 0; u < n; u++) {   // hot loop: 10 codes x LANES outputs per unit
                long o = qo + (long) u * RB;
                int x = xi + u * 10;
                IntVector v0 = IntVector.fromMemorySegment(I, t, o, LE);
                a0 = ((FloatVector) v0.and(0x7).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x]), a0);
                a1 = ((FloatVector) v0.and(0x38).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 1]), a1);
                a2 = ((FloatVector) v0.and(0x1C0).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 2]), a2);
                a3 = ((FloatVector) v0.and(0xE00).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 3]), a3);
                a0 = ((FloatVector) v0.and(0x7000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 4]), a0);
                a1 = ((FloatVector) v0.and(0x38000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 5]), a1);
                a2 = ((FloatVector) v0.and(0x1C0000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 6]), a2);
                a3 = ((FloatVector) v0.and(0xE00000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 7]), a3);
                a0 = ((FloatVector) v0.and(0x7000000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 8]), a0);
                a1 = ((FloatVector) v0.and(0x38000000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 9]), a1);
            }
            FloatVector scale = ((IntVector) ShortVector.fromMemorySegment(H, t, off, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            FloatVector zero = (FloatVector) ShortVector.fromMemorySegment(H, t, off + HB, LE).convertShape(S2F, S, 0);
            acc = zero.fma(FloatVector.broadcast(S, -sx[si + g]), a0.add(a1).add(a2.add(a3))).fma(scale, acc);
            off = qo + (long) n * RB;
            xi += n * 10;
        }
        if (valid == LANES) acc.intoArray(y, yo); else acc.intoArray(y, yo, S.indexInRange(0, valid));
    }

    /** 4-bit codes, one batch row: y[yo + l] for output lanes l < valid. */
    static void b1q4(MemorySegment t, long off, int[] units, float[] xs, int xi, float[] sx, int si, float[] y, int yo, int valid) {
        FloatVector acc = FloatVector.zero(S);
        for (int g = 0; g < units.length; g++) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            long qo = off + MB;
            int n = units[g];
            for (int u = 0; u < n; u++) {   // hot loop: 8 codes x LANES outputs per unit
                long o = qo + (long) u * RB;
                int x = xi + u * 8;
                IntVector v0 = IntVector.fromMemorySegment(I, t, o, LE);
                a0 = ((FloatVector) v0.and(0xF).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x]), a0);
                a1 = ((FloatVector) v0.and(0xF0).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 1]), a1);
                a2 = ((FloatVector) v0.and(0xF00).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 2]), a2);
                a3 = ((FloatVector) v0.and(0xF000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 3]), a3);
                a0 = ((FloatVector) v0.and(0xF0000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 4]), a0);
                a1 = ((FloatVector) v0.and(0xF00000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 5]), a1);
                a2 = ((FloatVector) v0.and(0xF000000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 6]), a2);
                a3 = ((FloatVector) v0.lanewise(LSHR, 28).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 7]), a3);
            }
            FloatVector scale = ((IntVector) ShortVector.fromMemorySegment(H, t, off, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            FloatVector zero = (FloatVector) ShortVector.fromMemorySegment(H, t, off + HB, LE).convertShape(S2F, S, 0);
            acc = zero.fma(FloatVector.broadcast(S, -sx[si + g]), a0.add(a1).add(a2.add(a3))).fma(scale, acc);
            off = qo + (long) n * RB;
            xi += n * 8;
        }
        if (valid == LANES) acc.intoArray(y, yo); else acc.intoArray(y, yo, S.indexInRange(0, valid));
    }

    /** 8-bit codes, one batch row: y[yo + l] for output lanes l < valid. */
    static void b1q8(MemorySegment t, long off, int[] units, float[] xs, int xi, float[] sx, int si, float[] y, int yo, int valid) {
        FloatVector acc = FloatVector.zero(S);
        for (int g = 0; g < units.length; g++) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            long qo = off + MB;
            int n = units[g];
            for (int u = 0; u < n; u++) {   // hot loop: 4 codes x LANES outputs per unit
                long o = qo + (long) u * RB;
                int x = xi + u * 4;
                IntVector v0 = IntVector.fromMemorySegment(I, t, o, LE);
                a0 = ((FloatVector) v0.and(0xFF).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x]), a0);
                a1 = ((FloatVector) v0.and(0xFF00).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 1]), a1);
                a2 = ((FloatVector) v0.and(0xFF0000).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 2]), a2);
                a3 = ((FloatVector) v0.lanewise(LSHR, 24).convert(I2F, 0)).fma(FloatVector.broadcast(S, xs[x + 3]), a3);
            }
            FloatVector scale = ((IntVector) ShortVector.fromMemorySegment(H, t, off, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            FloatVector zero = (FloatVector) ShortVector.fromMemorySegment(H, t, off + HB, LE).convertShape(S2F, S, 0);
            acc = zero.fma(FloatVector.broadcast(S, -sx[si + g]), a0.add(a1).add(a2.add(a3))).fma(scale, acc);
            off = qo + (long) n * RB;
            xi += n * 4;
        }
        if (valid == LANES) acc.intoArray(y, yo); else acc.intoArray(y, yo, S.indexInRange(0, valid));
    }

    /** 2-bit codes, four batch rows (xs rows pt apart, sx rows sg apart, y rows ys apart). */
    static void b4q2(MemorySegment t, long off, int[] units, float[] xs, int xi, int pt, float[] sx, int si, int sg, float[] y, int yo, int ys, int valid) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        for (int g = 0; g < units.length; g++) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            long qo = off + MB;
            int n = units[g];
            for (int u = 0; u < n; u++) {   // hot loop: each decoded piece feeds four rows
                long o = qo + (long) u * RB;
                int x0 = xi + u * 16, x1 = x0 + pt, x2 = x1 + pt, x3 = x2 + pt;
                IntVector v0 = IntVector.fromMemorySegment(I, t, o, LE);
                FloatVector w;
                w = (FloatVector) v0.and(0x3).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 0]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 0]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 0]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 0]), a3);
                w = (FloatVector) v0.and(0xC).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 1]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 1]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 1]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 1]), b3);
                w = (FloatVector) v0.and(0x30).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 2]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 2]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 2]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 2]), a3);
                w = (FloatVector) v0.and(0xC0).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 3]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 3]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 3]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 3]), b3);
                w = (FloatVector) v0.and(0x300).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 4]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 4]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 4]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 4]), a3);
                w = (FloatVector) v0.and(0xC00).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 5]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 5]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 5]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 5]), b3);
                w = (FloatVector) v0.and(0x3000).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 6]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 6]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 6]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 6]), a3);
                w = (FloatVector) v0.and(0xC000).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 7]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 7]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 7]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 7]), b3);
                w = (FloatVector) v0.and(0x30000).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 8]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 8]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 8]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 8]), a3);
                w = (FloatVector) v0.and(0xC0000).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 9]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 9]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 9]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 9]), b3);
                w = (FloatVector) v0.and(0x300000).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 10]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 10]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 10]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 10]), a3);
                w = (FloatVector) v0.and(0xC00000).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 11]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 11]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 11]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 11]), b3);
                w = (FloatVector) v0.and(0x3000000).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 12]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 12]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 12]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 12]), a3);
                w = (FloatVector) v0.and(0xC000000).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 13]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 13]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 13]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 13]), b3);
                w = (FloatVector) v0.and(0x30000000).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 14]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 14]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 14]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 14]), a3);
                w = (FloatVector) v0.lanewise(LSHR, 30).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 15]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 15]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 15]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 15]), b3);
            }
            FloatVector scale = ((IntVector) ShortVector.fromMemorySegment(H, t, off, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            FloatVector zero = (FloatVector) ShortVector.fromMemorySegment(H, t, off + HB, LE).convertShape(S2F, S, 0);
            c0 = zero.fma(FloatVector.broadcast(S, -sx[si + g]), a0.add(b0)).fma(scale, c0);
            c1 = zero.fma(FloatVector.broadcast(S, -sx[si + 1 * sg + g]), a1.add(b1)).fma(scale, c1);
            c2 = zero.fma(FloatVector.broadcast(S, -sx[si + 2 * sg + g]), a2.add(b2)).fma(scale, c2);
            c3 = zero.fma(FloatVector.broadcast(S, -sx[si + 3 * sg + g]), a3.add(b3)).fma(scale, c3);
            off = qo + (long) n * RB;
            xi += n * 16;
        }
        if (valid == LANES) c0.intoArray(y, yo); else c0.intoArray(y, yo, S.indexInRange(0, valid));
        if (valid == LANES) c1.intoArray(y, yo + 1 * ys); else c1.intoArray(y, yo + 1 * ys, S.indexInRange(0, valid));
        if (valid == LANES) c2.intoArray(y, yo + 2 * ys); else c2.intoArray(y, yo + 2 * ys, S.indexInRange(0, valid));
        if (valid == LANES) c3.intoArray(y, yo + 3 * ys); else c3.intoArray(y, yo + 3 * ys, S.indexInRange(0, valid));
    }

    /** 3-bit codes, four batch rows (xs rows pt apart, sx rows sg apart, y rows ys apart). */
    static void b4q3(MemorySegment t, long off, int[] units, float[] xs, int xi, int pt, float[] sx, int si, int sg, float[] y, int yo, int ys, int valid) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        for (int g = 0; g < units.length; g++) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            long qo = off + MB;
            int n = units[g];
            for (int u = 0; u < n; u++) {   // hot loop: each decoded piece feeds four rows
                long o = qo + (long) u * RB;
                int x0 = xi + u * 10, x1 = x0 + pt, x2 = x1 + pt, x3 = x2 + pt;
                IntVector v0 = IntVector.fromMemorySegment(I, t, o, LE);
                FloatVector w;
                w = (FloatVector) v0.and(0x7).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 0]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 0]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 0]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 0]), a3);
                w = (FloatVector) v0.and(0x38).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 1]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 1]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 1]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 1]), b3);
                w = (FloatVector) v0.and(0x1C0).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 2]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 2]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 2]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 2]), a3);
                w = (FloatVector) v0.and(0xE00).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 3]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 3]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 3]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 3]), b3);
                w = (FloatVector) v0.and(0x7000).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 4]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 4]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 4]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 4]), a3);
                w = (FloatVector) v0.and(0x38000).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 5]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 5]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 5]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 5]), b3);
                w = (FloatVector) v0.and(0x1C0000).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 6]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 6]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 6]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 6]), a3);
                w = (FloatVector) v0.and(0xE00000).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 7]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 7]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 7]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 7]), b3);
                w = (FloatVector) v0.and(0x7000000).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 8]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 8]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 8]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 8]), a3);
                w = (FloatVector) v0.and(0x38000000).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 9]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 9]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 9]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 9]), b3);
            }
            FloatVector scale = ((IntVector) ShortVector.fromMemorySegment(H, t, off, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            FloatVector zero = (FloatVector) ShortVector.fromMemorySegment(H, t, off + HB, LE).convertShape(S2F, S, 0);
            c0 = zero.fma(FloatVector.broadcast(S, -sx[si + g]), a0.add(b0)).fma(scale, c0);
            c1 = zero.fma(FloatVector.broadcast(S, -sx[si + 1 * sg + g]), a1.add(b1)).fma(scale, c1);
            c2 = zero.fma(FloatVector.broadcast(S, -sx[si + 2 * sg + g]), a2.add(b2)).fma(scale, c2);
            c3 = zero.fma(FloatVector.broadcast(S, -sx[si + 3 * sg + g]), a3.add(b3)).fma(scale, c3);
            off = qo + (long) n * RB;
            xi += n * 10;
        }
        if (valid == LANES) c0.intoArray(y, yo); else c0.intoArray(y, yo, S.indexInRange(0, valid));
        if (valid == LANES) c1.intoArray(y, yo + 1 * ys); else c1.intoArray(y, yo + 1 * ys, S.indexInRange(0, valid));
        if (valid == LANES) c2.intoArray(y, yo + 2 * ys); else c2.intoArray(y, yo + 2 * ys, S.indexInRange(0, valid));
        if (valid == LANES) c3.intoArray(y, yo + 3 * ys); else c3.intoArray(y, yo + 3 * ys, S.indexInRange(0, valid));
    }

    /** 4-bit codes, four batch rows (xs rows pt apart, sx rows sg apart, y rows ys apart). */
    static void b4q4(MemorySegment t, long off, int[] units, float[] xs, int xi, int pt, float[] sx, int si, int sg, float[] y, int yo, int ys, int valid) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        for (int g = 0; g < units.length; g++) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            long qo = off + MB;
            int n = units[g];
            for (int u = 0; u < n; u++) {   // hot loop: each decoded piece feeds four rows
                long o = qo + (long) u * RB;
                int x0 = xi + u * 8, x1 = x0 + pt, x2 = x1 + pt, x3 = x2 + pt;
                IntVector v0 = IntVector.fromMemorySegment(I, t, o, LE);
                FloatVector w;
                w = (FloatVector) v0.and(0xF).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 0]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 0]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 0]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 0]), a3);
                w = (FloatVector) v0.and(0xF0).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 1]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 1]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 1]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 1]), b3);
                w = (FloatVector) v0.and(0xF00).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 2]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 2]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 2]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 2]), a3);
                w = (FloatVector) v0.and(0xF000).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 3]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 3]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 3]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 3]), b3);
                w = (FloatVector) v0.and(0xF0000).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 4]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 4]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 4]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 4]), a3);
                w = (FloatVector) v0.and(0xF00000).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 5]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 5]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 5]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 5]), b3);
                w = (FloatVector) v0.and(0xF000000).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 6]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 6]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 6]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 6]), a3);
                w = (FloatVector) v0.lanewise(LSHR, 28).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 7]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 7]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 7]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 7]), b3);
            }
            FloatVector scale = ((IntVector) ShortVector.fromMemorySegment(H, t, off, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            FloatVector zero = (FloatVector) ShortVector.fromMemorySegment(H, t, off + HB, LE).convertShape(S2F, S, 0);
            c0 = zero.fma(FloatVector.broadcast(S, -sx[si + g]), a0.add(b0)).fma(scale, c0);
            c1 = zero.fma(FloatVector.broadcast(S, -sx[si + 1 * sg + g]), a1.add(b1)).fma(scale, c1);
            c2 = zero.fma(FloatVector.broadcast(S, -sx[si + 2 * sg + g]), a2.add(b2)).fma(scale, c2);
            c3 = zero.fma(FloatVector.broadcast(S, -sx[si + 3 * sg + g]), a3.add(b3)).fma(scale, c3);
            off = qo + (long) n * RB;
            xi += n * 8;
        }
        if (valid == LANES) c0.intoArray(y, yo); else c0.intoArray(y, yo, S.indexInRange(0, valid));
        if (valid == LANES) c1.intoArray(y, yo + 1 * ys); else c1.intoArray(y, yo + 1 * ys, S.indexInRange(0, valid));
        if (valid == LANES) c2.intoArray(y, yo + 2 * ys); else c2.intoArray(y, yo + 2 * ys, S.indexInRange(0, valid));
        if (valid == LANES) c3.intoArray(y, yo + 3 * ys); else c3.intoArray(y, yo + 3 * ys, S.indexInRange(0, valid));
    }

    /** 8-bit codes, four batch rows (xs rows pt apart, sx rows sg apart, y rows ys apart). */
    static void b4q8(MemorySegment t, long off, int[] units, float[] xs, int xi, int pt, float[] sx, int si, int sg, float[] y, int yo, int ys, int valid) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        for (int g = 0; g < units.length; g++) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            long qo = off + MB;
            int n = units[g];
            for (int u = 0; u < n; u++) {   // hot loop: each decoded piece feeds four rows
                long o = qo + (long) u * RB;
                int x0 = xi + u * 4, x1 = x0 + pt, x2 = x1 + pt, x3 = x2 + pt;
                IntVector v0 = IntVector.fromMemorySegment(I, t, o, LE);
                FloatVector w;
                w = (FloatVector) v0.and(0xFF).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 0]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 0]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 0]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 0]), a3);
                w = (FloatVector) v0.and(0xFF00).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 1]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 1]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 1]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 1]), b3);
                w = (FloatVector) v0.and(0xFF0000).convert(I2F, 0);
                a0 = w.fma(FloatVector.broadcast(S, xs[x0 + 2]), a0); a1 = w.fma(FloatVector.broadcast(S, xs[x1 + 2]), a1); a2 = w.fma(FloatVector.broadcast(S, xs[x2 + 2]), a2); a3 = w.fma(FloatVector.broadcast(S, xs[x3 + 2]), a3);
                w = (FloatVector) v0.lanewise(LSHR, 24).convert(I2F, 0);
                b0 = w.fma(FloatVector.broadcast(S, xs[x0 + 3]), b0); b1 = w.fma(FloatVector.broadcast(S, xs[x1 + 3]), b1); b2 = w.fma(FloatVector.broadcast(S, xs[x2 + 3]), b2); b3 = w.fma(FloatVector.broadcast(S, xs[x3 + 3]), b3);
            }
            FloatVector scale = ((IntVector) ShortVector.fromMemorySegment(H, t, off, LE).convertShape(S2I, I, 0)).lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().mul(0x1p112f);
            FloatVector zero = (FloatVector) ShortVector.fromMemorySegment(H, t, off + HB, LE).convertShape(S2F, S, 0);
            c0 = zero.fma(FloatVector.broadcast(S, -sx[si + g]), a0.add(b0)).fma(scale, c0);
            c1 = zero.fma(FloatVector.broadcast(S, -sx[si + 1 * sg + g]), a1.add(b1)).fma(scale, c1);
            c2 = zero.fma(FloatVector.broadcast(S, -sx[si + 2 * sg + g]), a2.add(b2)).fma(scale, c2);
            c3 = zero.fma(FloatVector.broadcast(S, -sx[si + 3 * sg + g]), a3.add(b3)).fma(scale, c3);
            off = qo + (long) n * RB;
            xi += n * 4;
        }
        if (valid == LANES) c0.intoArray(y, yo); else c0.intoArray(y, yo, S.indexInRange(0, valid));
        if (valid == LANES) c1.intoArray(y, yo + 1 * ys); else c1.intoArray(y, yo + 1 * ys, S.indexInRange(0, valid));
        if (valid == LANES) c2.intoArray(y, yo + 2 * ys); else c2.intoArray(y, yo + 2 * ys, S.indexInRange(0, valid));
        if (valid == LANES) c3.intoArray(y, yo + 3 * ys); else c3.intoArray(y, yo + 3 * ys, S.indexInRange(0, valid));
    }
}
