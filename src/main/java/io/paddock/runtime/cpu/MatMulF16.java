package io.paddock.runtime.cpu;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.S2I;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * F16 weights, widened in registers with a bit trick (JDK 25's Vector API has no lane-wise half-to-float
 * conversion; {@code VectorOperators} offers only the B/S/I/L/F/D casts and I2F/F2I-style reinterprets).
 *
 * <p>Widening: the half's bits, sign-extended to int and shifted left by 13, put its exponent and mantissa
 * in the float's fields; masking bits 28..30 (copies of the sign) leaves sign | (h &amp; 0x7fff) &lt;&lt; 13,
 * which as a float is exactly h * 2^-112 for every finite half, subnormals included (they become float
 * subnormals). Infinities and NaNs come out as large finite values: weights never hold them. The 2^112 is not
 * multiplied per weight: each activation vector is scaled by 2^56 once per pass (shared by four rows) and each
 * finished sum by 2^56, so products stay far from float underflow and overflow and the inner loop is
 * load+widen, shift, and, FMA.
 *
 * <p>Hot loop: {@code rows4batch1} (decode). Every pass produces four output rows so one activation vector
 * load feeds four weight vectors, and keeps eight (batch 1) to sixteen (batch 4) independent FMA chains so
 * the two FMA pipes never wait on latency. Weights are read with unaligned little-endian vector loads
 * straight from the (mapped) segment. MatMulF32, MatMulF16 and MatMulBF16 share this structure line for
 * line; only the weight load differs, which keeps each loop's load monomorphic for the JIT.
 *
 * <p>The widening is written out at every load rather than in a helper method on purpose: once such a helper
 * has its own compiled code above C2's InlineSmallCode it stops being inlined, and every vector crossing the
 * call gets boxed on the heap (measured: F16 fell to a quarter of its speed).
 */
final class MatMulF16 {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final long ES = 2;        // bytes per weight element
    private static final long LB = L * ES;   // bytes per weight vector
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Short> H =
            VectorSpecies.of(short.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final float X_SCALE = 0x1p56f;    // activations in the vector loop are x * 2^56
    private static final float OUT_SCALE = 0x1p56f;  // w * 2^-112 * x * 2^56 summed, times 2^56 = w.x

    private MatMulF16() {}

    private static float scalar(MemorySegment w, long off) {
        return Float.float16ToFloat(w.get(HALF, off));
    }

    /**
     * Output rows [start, end) for every batch row. The four rows of a pass are not adjacent but a quarter of
     * the range apart (r, r+q, r+2q, r+3q): each of the four weight streams then walks one contiguous quarter
     * of the range from start to end, which the hardware prefetchers follow, instead of three of the four
     * streams jumping to a new address every block (measured: F16 with 4096 columns went from ~70 % to ~90 %
     * of read bandwidth).
     */
    static void rows(MemorySegment w, int cols, float[] x, int xOff, float[] y, int yOff, int rows, int batch,
                     int start, int end) {
        int q = (end - start) / 4;
        for (int i = 0; i < q; i++) {
            int r0 = start + i, r1 = r0 + q, r2 = r1 + q, r3 = r2 + q;
            int b = 0;
            for (; b + 4 <= batch; b += 4) {
                rows4batch4(w, cols, x, xOff + b * cols, y, yOff + b * rows, rows, r0, r1, r2, r3);
            }
            if (batch - b >= 2) {
                rows4batch2(w, cols, x, xOff + b * cols, y, yOff + b * rows, rows, r0, r1, r2, r3);
                b += 2;
            }
            if (b < batch) rows4batch1(w, cols, x, xOff + b * cols, y, yOff + b * rows, r0, r1, r2, r3);
        }
        for (int r = start + 4 * q; r < end; r++) {
            for (int b = 0; b < batch; b++) y[yOff + b * rows + r] = row1(w, cols, x, xOff + b * cols, r);
        }
    }

    /** y[yo + ri] = W[ri] . x[xo ..] for the four rows r0..r3. */
    static void rows4batch1(MemorySegment w, int cols, float[] x, int xo, float[] y, int yo, int r0, int r1, int r2,
                            int r3) {
        long rs = cols * ES;
        long o0 = r0 * rs, o1 = r1 * rs, o2 = r2 * rs, o3 = r3 * rs;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int c = 0;
        int bound2 = cols - cols % (2 * L);
        for (; c < bound2; c += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(S, x, xo + c).mul(X_SCALE);
            FloatVector x1 = FloatVector.fromArray(S, x, xo + c + L).mul(X_SCALE);
            long cb = c * ES;
            a0 = ((IntVector) ShortVector.fromMemorySegment(H, w, o0 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x0, a0);
            b0 = ((IntVector) ShortVector.fromMemorySegment(H, w, o0 + cb + LB, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x1, b0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(H, w, o1 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x0, a1);
            b1 = ((IntVector) ShortVector.fromMemorySegment(H, w, o1 + cb + LB, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x1, b1);
            a2 = ((IntVector) ShortVector.fromMemorySegment(H, w, o2 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x0, a2);
            b2 = ((IntVector) ShortVector.fromMemorySegment(H, w, o2 + cb + LB, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x1, b2);
            a3 = ((IntVector) ShortVector.fromMemorySegment(H, w, o3 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x0, a3);
            b3 = ((IntVector) ShortVector.fromMemorySegment(H, w, o3 + cb + LB, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x1, b3);
        }
        if (c + L <= cols) {
            FloatVector x0 = FloatVector.fromArray(S, x, xo + c).mul(X_SCALE);
            long cb = c * ES;
            a0 = ((IntVector) ShortVector.fromMemorySegment(H, w, o0 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x0, a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(H, w, o1 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x0, a1);
            a2 = ((IntVector) ShortVector.fromMemorySegment(H, w, o2 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x0, a2);
            a3 = ((IntVector) ShortVector.fromMemorySegment(H, w, o3 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(x0, a3);
            c += L;
        }
        float s0 = a0.add(b0).reduceLanes(ADD) * OUT_SCALE;
        float s1 = a1.add(b1).reduceLanes(ADD) * OUT_SCALE;
        float s2 = a2.add(b2).reduceLanes(ADD) * OUT_SCALE;
        float s3 = a3.add(b3).reduceLanes(ADD) * OUT_SCALE;
        for (; c < cols; c++) {
            float xc = x[xo + c];
            long cb = c * ES;
            s0 += scalar(w, o0 + cb) * xc;
            s1 += scalar(w, o1 + cb) * xc;
            s2 += scalar(w, o2 + cb) * xc;
            s3 += scalar(w, o3 + cb) * xc;
        }
        y[yo + r0] = s0;
        y[yo + r1] = s1;
        y[yo + r2] = s2;
        y[yo + r3] = s3;
    }

    /** Two batch rows (x at xo and xo + cols; y at yo and yo + rows) times the four weight rows r0..r3. */
    static void rows4batch2(MemorySegment w, int cols, float[] x, int xo, float[] y, int yo, int rows, int r0, int r1,
                            int r2, int r3) {
        long rs = cols * ES;
        long o0 = r0 * rs, o1 = r1 * rs, o2 = r2 * rs, o3 = r3 * rs;
        int xo1 = xo + cols;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int c = 0;
        int bound = cols - cols % L;
        for (; c < bound; c += L) {
            FloatVector x0 = FloatVector.fromArray(S, x, xo + c).mul(X_SCALE);
            FloatVector x1 = FloatVector.fromArray(S, x, xo1 + c).mul(X_SCALE);
            long cb = c * ES;
            FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(H, w, o0 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats();
            FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(H, w, o1 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats();
            FloatVector w2 = ((IntVector) ShortVector.fromMemorySegment(H, w, o2 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats();
            FloatVector w3 = ((IntVector) ShortVector.fromMemorySegment(H, w, o3 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats();
            a0 = w0.fma(x0, a0);
            b0 = w0.fma(x1, b0);
            a1 = w1.fma(x0, a1);
            b1 = w1.fma(x1, b1);
            a2 = w2.fma(x0, a2);
            b2 = w2.fma(x1, b2);
            a3 = w3.fma(x0, a3);
            b3 = w3.fma(x1, b3);
        }
        float s0 = a0.reduceLanes(ADD) * OUT_SCALE, t0 = b0.reduceLanes(ADD) * OUT_SCALE;
        float s1 = a1.reduceLanes(ADD) * OUT_SCALE, t1 = b1.reduceLanes(ADD) * OUT_SCALE;
        float s2 = a2.reduceLanes(ADD) * OUT_SCALE, t2 = b2.reduceLanes(ADD) * OUT_SCALE;
        float s3 = a3.reduceLanes(ADD) * OUT_SCALE, t3 = b3.reduceLanes(ADD) * OUT_SCALE;
        for (; c < cols; c++) {
            float xc = x[xo + c], xd = x[xo1 + c];
            long cb = c * ES;
            float w0 = scalar(w, o0 + cb), w1 = scalar(w, o1 + cb), w2 = scalar(w, o2 + cb), w3 = scalar(w, o3 + cb);
            s0 += w0 * xc;
            s1 += w1 * xc;
            s2 += w2 * xc;
            s3 += w3 * xc;
            t0 += w0 * xd;
            t1 += w1 * xd;
            t2 += w2 * xd;
            t3 += w3 * xd;
        }
        y[yo + r0] = s0;
        y[yo + r1] = s1;
        y[yo + r2] = s2;
        y[yo + r3] = s3;
        y[yo + rows + r0] = t0;
        y[yo + rows + r1] = t1;
        y[yo + rows + r2] = t2;
        y[yo + rows + r3] = t3;
    }

    /** Four batch rows times the four weight rows r0..r3: sixteen accumulators, each weight vector loaded once. */
    static void rows4batch4(MemorySegment w, int cols, float[] x, int xo, float[] y, int yo, int rows, int r0, int r1,
                            int r2, int r3) {
        long rs = cols * ES;
        long o0 = r0 * rs, o1 = r1 * rs, o2 = r2 * rs, o3 = r3 * rs;
        int xo1 = xo + cols, xo2 = xo1 + cols, xo3 = xo2 + cols;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;   // a<weight row><batch row>
        int c = 0;
        int bound = cols - cols % L;
        for (; c < bound; c += L) {
            FloatVector x0 = FloatVector.fromArray(S, x, xo + c).mul(X_SCALE);
            FloatVector x1 = FloatVector.fromArray(S, x, xo1 + c).mul(X_SCALE);
            FloatVector x2 = FloatVector.fromArray(S, x, xo2 + c).mul(X_SCALE);
            FloatVector x3 = FloatVector.fromArray(S, x, xo3 + c).mul(X_SCALE);
            long cb = c * ES;
            FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(H, w, o0 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats();
            a00 = w0.fma(x0, a00);
            a01 = w0.fma(x1, a01);
            a02 = w0.fma(x2, a02);
            a03 = w0.fma(x3, a03);
            FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(H, w, o1 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats();
            a10 = w1.fma(x0, a10);
            a11 = w1.fma(x1, a11);
            a12 = w1.fma(x2, a12);
            a13 = w1.fma(x3, a13);
            FloatVector w2 = ((IntVector) ShortVector.fromMemorySegment(H, w, o2 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats();
            a20 = w2.fma(x0, a20);
            a21 = w2.fma(x1, a21);
            a22 = w2.fma(x2, a22);
            a23 = w2.fma(x3, a23);
            FloatVector w3 = ((IntVector) ShortVector.fromMemorySegment(H, w, o3 + cb, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats();
            a30 = w3.fma(x0, a30);
            a31 = w3.fma(x1, a31);
            a32 = w3.fma(x2, a32);
            a33 = w3.fma(x3, a33);
        }
        float[] s = {
            a00.reduceLanes(ADD) * OUT_SCALE, a01.reduceLanes(ADD) * OUT_SCALE, a02.reduceLanes(ADD) * OUT_SCALE, a03.reduceLanes(ADD) * OUT_SCALE,
            a10.reduceLanes(ADD) * OUT_SCALE, a11.reduceLanes(ADD) * OUT_SCALE, a12.reduceLanes(ADD) * OUT_SCALE, a13.reduceLanes(ADD) * OUT_SCALE,
            a20.reduceLanes(ADD) * OUT_SCALE, a21.reduceLanes(ADD) * OUT_SCALE, a22.reduceLanes(ADD) * OUT_SCALE, a23.reduceLanes(ADD) * OUT_SCALE,
            a30.reduceLanes(ADD) * OUT_SCALE, a31.reduceLanes(ADD) * OUT_SCALE, a32.reduceLanes(ADD) * OUT_SCALE, a33.reduceLanes(ADD) * OUT_SCALE};  // (row, batch)
        long[] o = {o0, o1, o2, o3};
        int[] rr = {r0, r1, r2, r3};
        for (; c < cols; c++) {
            long cb = c * ES;
            for (int i = 0; i < 4; i++) {
                float wi = scalar(w, o[i] + cb);
                for (int b = 0; b < 4; b++) s[i * 4 + b] += wi * x[xo + b * cols + c];
            }
        }
        for (int i = 0; i < 4; i++) {
            for (int b = 0; b < 4; b++) y[yo + b * rows + rr[i]] = s[i * 4 + b];
        }
    }

    /** One output row for one batch row: the tail when rows is not a multiple of four. */
    static float row1(MemorySegment w, int cols, float[] x, int xo, int r) {
        long o = r * (cols * ES);
        FloatVector a = FloatVector.zero(S), b = a;
        int c = 0;
        int bound2 = cols - cols % (2 * L);
        for (; c < bound2; c += 2 * L) {
            a = ((IntVector) ShortVector.fromMemorySegment(H, w, o + c * ES, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xo + c).mul(X_SCALE), a);
            b = ((IntVector) ShortVector.fromMemorySegment(H, w, o + c * ES + LB, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xo + c + L).mul(X_SCALE), b);
        }
        if (c + L <= cols) {
            a = ((IntVector) ShortVector.fromMemorySegment(H, w, o + c * ES, LE).convertShape(S2I, I, 0))
                    .lanewise(LSHL, 13).and(0x8FFF_FFFF).reinterpretAsFloats().fma(FloatVector.fromArray(S, x, xo + c).mul(X_SCALE), a);
            c += L;
        }
        float s = a.add(b).reduceLanes(ADD) * OUT_SCALE;
        for (; c < cols; c++) s += scalar(w, o + c * ES) * x[xo + c];
        return s;
    }
}
