package io.paddock.runtime.cpu;

import java.util.Objects;

/**
 * y = x · w (+ bias) for a GPTQ layer prepared as a {@link GptqMatrix}: the decode-time projection of a
 * quantized model. Dequantizes inside the dot product; never materializes float weights.
 *
 * <p>Per call, serially and O(in) per batch row: the activation rows are gathered through the act-order
 * permutation into piece order, each slot pre-scaled by its piece factor ({@link GptqPieces}), and the
 * per-group sums Σx taken for the zero-point term. Then the output blocks are split across the pool's threads;
 * each block is one sequential stream of codes and group metadata, read once for every four batch rows (the
 * rows past a multiple of four re-read the block from cache, one row at a time).
 */
public final class GptqMatMul {
    private GptqMatMul() {}

    /** y[b, o] = Σ_i x[b, i] · w[i, o] (+ bias[o]): x is (batch, cols) at xOff, y is (batch, rows) at yOff. */
    public static void matmul(Parallel p, GptqMatrix w, float[] x, int xOff, float[] y, int yOff, int batch) {
        int in = w.cols(), out = w.rows();
        if (batch < 0) throw new IllegalArgumentException("batch must be >= 0, got " + batch);
        if (batch == 0 || out == 0) return;
        Objects.checkFromIndexSize(xOff, Math.multiplyExact(batch, in), x.length);
        Objects.checkFromIndexSize(yOff, Math.multiplyExact(batch, out), y.length);
        if (GptqInt8.use(w, batch)) {   // several rows: int8 activations, integer dot products (GptqInt8)
            GptqInt8.matmul(p, w, x, xOff, y, yOff, batch);
            return;
        }
        int pt = w.pieceCount();
        float[] xs = new float[Math.multiplyExact(batch, pt)];   // (batch, pieces)
        float[] sx = new float[batch * w.groups];                 // (batch, groups)
        for (int b = 0; b < batch; b++) gather(w, x, xOff + b * in, xs, b * pt, sx, b * w.groups);
        p.forRange(w.blocks, 1, (s, e) -> blocks(w, xs, sx, y, yOff, batch, s, e));
    }

    /** One activation row into piece order (see {@link GptqPieces}), and its per-group sums. */
    static void gather(GptqMatrix w, float[] x, int xo, float[] xs, int xso, float[] sx, int sxo) {
        GptqPieces pc = w.pieces;
        int codes = pc.codes(), np = pc.pieces();
        int[] code = pc.code();
        float[] factor = pc.factor();
        int[] perm = w.perm;
        float[] unit = new float[codes];
        for (int g = 0; g < w.groups; g++) {
            float sum = 0;
            for (int u = w.groupUnitStart[g]; u < w.groupUnitStart[g + 1]; u++) {
                for (int c = 0; c < codes; c++) {
                    int i = perm[u * codes + c];
                    unit[c] = i < 0 ? 0f : x[xo + i];
                    sum += unit[c];
                }
                int base = xso + u * np;
                for (int k = 0; k < np; k++) xs[base + k] = unit[code[k]] * factor[k];
            }
            sx[sxo + g] = sum;
        }
    }

    private static void blocks(GptqMatrix w, float[] xs, float[] sx, float[] y, int yOff, int batch, int start, int end) {
        int lanes = GptqMatrix.LANES, out = w.rows(), pt = w.pieceCount(), groups = w.groups, bits = w.bits();
        int[] units = w.groupUnits;
        for (int blk = start; blk < end; blk++) {
            long off = blk * w.blockBytes;
            int o0 = blk * lanes;
            int valid = Math.min(lanes, out - o0);
            int b = 0;
            for (; b + 4 <= batch; b += 4) {
                int xi = b * pt, si = b * groups, yo = yOff + b * out + o0;
                switch (bits) {
                    case 2 -> GptqTiles.b4q2(w.tiles, off, units, xs, xi, pt, sx, si, groups, y, yo, out, valid);
                    case 3 -> GptqTiles.b4q3(w.tiles, off, units, xs, xi, pt, sx, si, groups, y, yo, out, valid);
                    case 4 -> GptqTiles.b4q4(w.tiles, off, units, xs, xi, pt, sx, si, groups, y, yo, out, valid);
                    default -> GptqTiles.b4q8(w.tiles, off, units, xs, xi, pt, sx, si, groups, y, yo, out, valid);
                }
            }
            for (; b < batch; b++) {
                int xi = b * pt, si = b * groups, yo = yOff + b * out + o0;
                switch (bits) {
                    case 2 -> GptqTiles.b1q2(w.tiles, off, units, xs, xi, sx, si, y, yo, valid);
                    case 3 -> GptqTiles.b1q3(w.tiles, off, units, xs, xi, sx, si, y, yo, valid);
                    case 4 -> GptqTiles.b1q4(w.tiles, off, units, xs, xi, sx, si, y, yo, valid);
                    default -> GptqTiles.b1q8(w.tiles, off, units, xs, xi, sx, si, y, yo, valid);
                }
            }
            if (w.bias != null) {
                for (int r = 0; r < batch; r++) {
                    for (int l = 0; l < valid; l++) y[yOff + r * out + o0 + l] += w.bias[o0 + l];
                }
            }
        }
    }
}
