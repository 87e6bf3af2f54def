package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.runtime.cuda.GpuDevice.Dim3;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The tensor-core GPTQ GEMM (gptq_mma.cu) through the runtime's own launcher {@link CudaKernels#gptqMma}: grid and
 * split-K as the launcher chooses them for the device (132 SMs when simulated) and its {@link SplitWorkspace}, the
 * output segments and accumulate mode of {@link GptqOut}, and the pre-pass's SwiGLU, against a float64 reference
 * in the checkpoint's original input order. The tiled layout is packed here from its specification
 * (docs/gpu-kernels.md, "Tiled GPTQ").
 *
 * <p>Tolerance: x and every dequantized weight are rounded to fp16 once (relative 2^-11 each; 2^-25 absolute for x
 * in fp16's subnormal range; SwiGLU's fp32 evaluation adds a few 2^-24 before that rounding), products are exact
 * and the sums are fp32 (one rounding per 16-input mma step, per slice of the split-K sum and the bias):
 * {@code (2·2^-11 + 2^-22 + (k/16 + splitK + 2)·2^-24)·Σ|x·w| + 2^-25·Σ|w|}, plus one rounding of y + v when
 * accumulating. On a GPU the tensor cores' own accumulation differs in the last bits; the bound leaves room for
 * that.
 */
class CudaGptqMmaTests {
    private static final double UH = 0x1p-11;
    private static final double U = 0x1p-24;

    @Test
    void theGridFillsTheSmsWithSplitKAndKeepsEightKTilesPerSlice() {
        assertThat(CudaKernels.mmaGrid(256, 4096, 4096, 132)).isEqualTo(new Dim3(16, 4, 3));   // 64 blocks -> 3 slices
        assertThat(CudaKernels.mmaGrid(9, 4096, 4096, 132)).isEqualTo(new Dim3(16, 1, 9));
        assertThat(CudaKernels.mmaGrid(17, 256, 192, 132)).isEqualTo(new Dim3(1, 1, 2));       // 16 k-tiles: 2 slices
        assertThat(CudaKernels.mmaGrid(100, 4096, 11008, 132)).isEqualTo(new Dim3(43, 2, 2));
        assertThat(CudaKernels.mmaGrid(256, 11008, 32000, 132)).isEqualTo(new Dim3(125, 4, 1));
        assertThat(CudaKernels.mmaRowsPerBlock(1)).isEqualTo(16);
        assertThat(CudaKernels.mmaRowsPerBlock(32)).isEqualTo(32);
        assertThat(CudaKernels.mmaRowsPerBlock(33)).isEqualTo(64);
    }

    @Test
    void shapesOutsideTheLayoutAndSegmentsWithoutABufferAreRefusedWithTheirNumbers() {
        try (GpuDevice device = CudaTesting.device(); CudaKernels k = new CudaKernels(device)) {
            GptqOut out = GptqOut.to(8, 64);
            assertThatThrownBy(() -> k.gptqMma(0, 0, 0, 0, 0, 0, 0, 0, 0, out, SplitWorkspace.NONE, 4, 100, 64))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k=100");
            assertThatThrownBy(() -> k.gptqMma(0, 0, 0, 0, 0, 0, 0, 0, 0, out, SplitWorkspace.NONE, 4, 128, 96))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("n=96");
            GptqOut twoOfThree = new GptqOut(8, 16, 0, 64, 64, false);
            assertThatThrownBy(() -> k.gptqMma(0, 0, 0, 0, 0, 0, 0, 0, 0, twoOfThree, SplitWorkspace.NONE, 4, 128, 192))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("segment 2 has 64 columns");
            assertThatThrownBy(() -> k.gptqMma(0, 0, 0, 0, 0, 0, 0, 0, 0, twoOfThree, SplitWorkspace.NONE, 4, 128, 64))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exceed 64 columns");
            SplitWorkspace odd = new SplitWorkspace(4, 1 << 20, 64, 64);   // 4 splits of m 4, k 1024, n 64
            assertThatThrownBy(() -> k.gptqMma(0, 0, 0, 0, 0, 0, 0, 0, 0, out, odd, 4, 1024, 64))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("8-byte aligned, got 0x4");
        }
    }

    @ParameterizedTest(name = "m={0} k={1} n={2} group={3} actOrder={4} bias={5}")
    @CsvSource({"1, 256, 64, 32, true, false", "17, 512, 256, 128, true, true", "70, 256, 128, -1, false, true",
                "9, 1024, 64, 64, false, false"})
    void matchesTheFloat64Reference(int m, int k, int n, int group, boolean actOrder, boolean bias) {
        Layer l = new Layer(m, k, n, group, actOrder, bias, false);
        Result r = l.run(Workspace.FULL, -1, 0, false);
        assertThat(r.slices).as("the launcher splits these shapes").isGreaterThan(1);
        l.check(r);
    }

    @Test
    void splitResultsAreBitIdenticalFromRunToRunAndLeaveTheCountersZero() {
        Layer l = new Layer(9, 1024, 256, 64, true, true, false);
        Result a = l.run(Workspace.FULL, -1, 0, false), b = l.run(Workspace.FULL, -1, 0, false);
        assertThat(a.slices).isEqualTo(8);
        l.check(a);
        for (int i = 0; i < a.y.length; i++) {
            assertThat(Float.floatToRawIntBits(b.y[i])).as("y[%d]", i).isEqualTo(Float.floatToRawIntBits(a.y[i]));
        }
    }

    @Test
    void segmentsAndAccumulateWriteEachColumnIntoItsBuffer() {
        Layer l = new Layer(9, 256, 256, 64, true, true, false);
        // q/k/v-like 128/64/64, overwritten; then 64/192/0 with no third buffer; then added to prefilled values
        for (int[] seg : new int[][] {{128, 64}, {64, 192}, {33, 100}}) {
            l.check(l.run(Workspace.FULL, seg[0], seg[1], false));
            l.check(l.run(Workspace.NONE, seg[0], seg[1], false));
        }
        l.check(l.run(Workspace.FULL, 128, 128, true));
        l.check(l.run(Workspace.NONE, -1, 0, true));
    }

    @Test
    void theSwigluPrePassFeedsSiluOfGateTimesUp() {
        Layer l = new Layer(9, 512, 128, 32, true, true, true);
        Result r = l.run(Workspace.FULL, -1, 0, false);
        assertThat(r.slices).isGreaterThan(1);
        l.check(r);
        l.check(l.run(Workspace.NONE, -1, 0, true));   // the down projection adding into the residual
    }

    @Test
    void aWorkspaceTooSmallForTheWantedSplitTakesFewerSlicesAndNoWorkspaceNone() {
        Layer l = new Layer(17, 512, 512, 128, true, true, false);   // 2 output tiles
        Result full = l.run(Workspace.FULL, -1, 0, false);
        assertThat(full.slices).isEqualTo(4);
        Result two = l.run(Workspace.TWO_SLICES, -1, 0, false);
        assertThat(two.slices).isEqualTo(2);
        Result fewCounters = l.run(Workspace.TOO_FEW_COUNTERS, -1, 0, false);
        assertThat(fewCounters.slices).isEqualTo(1);
        Result none = l.run(Workspace.NONE, -1, 0, false);
        assertThat(none.slices).isEqualTo(1);
        for (Result r : List.of(full, two, fewCounters, none)) l.check(r);
    }

    /** How much split-K workspace a run gets. */
    private enum Workspace { FULL, TWO_SLICES, TOO_FEW_COUNTERS, NONE }

    /**
     * A run's whole output (rows × n, read back through the segments), the slices it ran with, and what y held
     * before when it accumulated (else null).
     */
    private record Result(float[] y, int slices, float[] pre) {}

    /** One random 4-bit layer in the tiled layout, with its input (and SwiGLU's up input). */
    private static final class Layer {
        final int m, k, n, groups;
        final boolean actOrder, bias, swiglu;
        final int[] g, perm, qtiles, tileGroup;
        final int[][] q, z;
        final short[] scales, biasH, zeros16;
        final float[] x, up;
        final Random rnd;

        Layer(int m, int k, int n, int group, boolean actOrder, boolean bias, boolean swiglu) {
            this.m = m;
            this.k = k;
            this.n = n;
            this.actOrder = actOrder;
            this.bias = bias;
            this.swiglu = swiglu;
            rnd = new Random(1000L * m + 7L * k + n + group + (swiglu ? 1 : 0));
            groups = group < 0 ? 1 : Math.ceilDiv(k, group);
            g = new int[k];
            for (int i = 0; i < k; i++) g[i] = group < 0 ? 0 : i / group;
            if (actOrder) {
                for (int i = k - 1; i > 0; i--) {
                    int j = rnd.nextInt(i + 1), t = g[i];
                    g[i] = g[j];
                    g[j] = t;
                }
            }
            q = new int[k][n];
            z = new int[groups][n];
            for (int[] row : q) for (int o = 0; o < n; o++) row[o] = rnd.nextInt(16);
            for (int[] row : z) for (int o = 0; o < n; o++) row[o] = rnd.nextInt(16);
            scales = new short[groups * n];
            for (int i = 0; i < scales.length; i++) {
                scales[i] = Float.floatToFloat16((0.002f + 0.05f * rnd.nextFloat()) * (rnd.nextInt(8) == 0 ? -1 : 1));
            }
            biasH = new short[n];
            for (int o = 0; o < n; o++) biasH[o] = Float.floatToFloat16(2 * rnd.nextFloat() - 1);
            x = new float[m * k];
            for (int i = 0; i < x.length; i++) x[i] = (swiglu ? 12 : 2) * rnd.nextFloat() - (swiglu ? 6 : 1);
            up = swiglu ? new float[m * k] : null;
            if (swiglu) for (int i = 0; i < up.length; i++) up[i] = 2 * rnd.nextFloat() - 1;

            // the tiled layout: inputs stably sorted by group, perm[p] = original input at p
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < k; i++) order.add(i);
            order.sort(Comparator.comparingInt(i -> g[i]));   // List.sort is stable
            perm = order.stream().mapToInt(Integer::intValue).toArray();
            qtiles = packTiles(q, perm, k, n);
            tileGroup = new int[k / 16];
            for (int kt = 0; kt < k / 16; kt++) tileGroup[kt] = g[perm[kt * 16]];
            zeros16 = new short[groups * n];
            for (int gr = 0; gr < groups; gr++) {
                for (int o = 0; o < n; o++) zeros16[gr * n + o] = Float.floatToFloat16(1024f + z[gr][o]);
            }
        }

        /**
         * One gptqMma call on a fresh device: segments n0/n1 (n0 < 0: one buffer), y prefilled with random values
         * when accumulating (else NaN), the workspace as asked; checks its counters are zero after.
         */
        Result run(Workspace kind, int n0, int n1, boolean accumulate) {
            int s0 = n0 < 0 ? n : n0, s1 = n0 < 0 ? 0 : n1, s2 = n - s0 - s1;
            float[] pre = new float[m * n];
            for (int i = 0; i < pre.length; i++) pre[i] = accumulate ? 8 * rnd.nextFloat() - 4 : Float.NaN;
            float[] y = new float[m * n];
            int slices;
            try (GpuDevice device = CudaTesting.device();
                 DeviceMemory mem = new DeviceMemory(device);
                 CudaKernels kern = new CudaKernels(device)) {
                long dx = mem.upload(x), dUp = swiglu ? mem.upload(up) : 0, dPerm = actOrder ? mem.upload(perm) : 0;
                long dTiles = mem.upload(qtiles), dGroup = mem.upload(tileGroup);
                long dZeros = mem.upload(MemorySegment.ofArray(zeros16)), dScales = mem.upload(MemorySegment.ofArray(scales));
                long dBias = bias ? mem.upload(MemorySegment.ofArray(biasH)) : 0, dXh = mem.alloc(2L * m * k);
                int[] widths = {s0, s1, s2};
                long[] dy = new long[3];
                for (int s = 0; s < 3; s++) {
                    if (widths[s] > 0) dy[s] = mem.upload(segment(pre, s, widths));
                }
                Dim3 grid = CudaKernels.mmaGrid(m, k, n, device.multiprocessorCount());
                int tiles = grid.x() * grid.y();
                SplitWorkspace ws = switch (kind) {
                    case NONE -> SplitWorkspace.NONE;
                    case FULL -> workspace(mem, (long) grid.z() * m * n, tiles);
                    case TWO_SLICES -> workspace(mem, 2L * m * n + m * n / 2, tiles);
                    case TOO_FEW_COUNTERS -> workspace(mem, (long) grid.z() * m * n, tiles - 1);
                };
                slices = ws.slices(grid.z(), m, n, tiles);
                kern.gptqMma(dx, dUp, dPerm, dXh, dTiles, dZeros, dScales, dGroup, dBias,
                        new GptqOut(dy[0], dy[1], dy[2], s0, s1, accumulate), ws, m, k, n);
                for (int s = 0; s < 3; s++) {
                    if (widths[s] == 0) continue;
                    float[] part = new float[m * widths[s]];
                    mem.copyToHost(dy[s], part, part.length);
                    int off = s == 0 ? 0 : s == 1 ? s0 : s0 + s1;
                    for (int r = 0; r < m; r++) System.arraycopy(part, r * widths[s], y, r * n + off, widths[s]);
                }
                if (ws.counterCount() > 0) {
                    int[] counters = new int[ws.counterCount()];
                    device.copyToHost(MemorySegment.ofArray(counters), ws.counters());
                    assertThat(counters).as("split-K counters after the launch").containsOnly(0);
                }
            }
            return new Result(y, slices, accumulate ? pre : null);
        }

        /** Columns of segment s (widths given) out of a rows × n matrix. */
        private float[] segment(float[] full, int s, int[] widths) {
            int off = s == 0 ? 0 : s == 1 ? widths[0] : widths[0] + widths[1];
            float[] part = new float[m * widths[s]];
            for (int r = 0; r < m; r++) System.arraycopy(full, r * n + off, part, r * widths[s], widths[s]);
            return part;
        }

        /** A workspace of {@code floats} partials and {@code counters} counters, the counters zeroed once. */
        private static SplitWorkspace workspace(DeviceMemory mem, long floats, int counters) {
            long c = mem.upload(new int[counters]);
            return new SplitWorkspace(mem.alloc(4 * floats), floats, c, counters);
        }

        /** A run's y against float64 (plus what y held before, when it accumulated). */
        void check(Result r) {
            float[] pre = r.pre;
            double steps = k / 16.0 + r.slices + 2 + (swiglu ? 6 : 0), worst = 0;
            for (int row = 0; row < m; row++) {
                for (int o = 0; o < n; o++) {
                    double acc = bias ? Float.float16ToFloat(biasH[o]) : 0, mag = Math.abs(acc), wAbs = 0;
                    for (int i = 0; i < k; i++) {
                        double w = Float.float16ToFloat(scales[g[i] * n + o]) * (q[i][o] - z[g[i]][o]);
                        double t = input(row * k + i) * w;
                        acc += t;
                        mag += Math.abs(t);
                        wAbs += Math.abs(w);
                    }
                    double tol = (2 * UH + UH * UH + steps * U) * mag + 0x1p-25 * wAbs * (1 + UH);
                    if (pre != null) {
                        acc += pre[row * n + o];
                        tol += U * (Math.abs(pre[row * n + o]) + 2 * mag);
                    }
                    double err = Math.abs(r.y[row * n + o] - acc);
                    assertThat(err).as("y[%d, %d] = %s, want %s (%d slices)", row, o, r.y[row * n + o], acc, r.slices)
                            .isLessThanOrEqualTo(tol);
                    worst = Math.max(worst, err / tol);
                }
            }
            System.out.printf("gptq_mma m=%d k=%d n=%d %d slices%s: worst |Δ|/tol = %.3f%n", m, k, n, r.slices,
                    swiglu ? " swiglu" : "", worst);
        }

        /** The GEMM's input i of a row, exactly: x, or silu(gate)·up. */
        private double input(int i) {
            if (!swiglu) return x[i];
            double gate = x[i];
            return gate / (1 + Math.exp(-gate)) * up[i];
        }
    }

    /**
     * qtiles from the codes q[original input][output]: tile (kt, nt) at word (nt·k/16 + kt)·128, lane L's words
     * 4L..4L+3; nibble p of word j: i = p&3, hi = p>>2, t = 2j + (i>>1), r = i&1, sorted input kt·16 + 2·(L&3) +
     * hi + 8r, output nt·64 + 8t + (L>>2).
     */
    private static int[] packTiles(int[][] q, int[] perm, int k, int n) {
        int kTiles = k / 16;
        int[] words = new int[k * n / 8];
        for (int nt = 0; nt < n / 64; nt++) {
            for (int kt = 0; kt < kTiles; kt++) {
                for (int lane = 0; lane < 32; lane++) {
                    for (int j = 0; j < 4; j++) {
                        int w = 0;
                        for (int p = 0; p < 8; p++) {
                            int i = p & 3, hi = p >> 2, t = 2 * j + (i >> 1), r = i & 1;
                            int sorted = kt * 16 + 2 * (lane & 3) + hi + 8 * r, out = nt * 64 + 8 * t + (lane >> 2);
                            w |= q[perm[sorted]][out] << (4 * p);
                        }
                        words[(nt * kTiles + kt) * 128 + lane * 4 + j] = w;
                    }
                }
            }
        }
        return words;
    }
}
