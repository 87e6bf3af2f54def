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
 * The tensor-core GPTQ GEMM (gptq_mma.cu) through the runtime's own launcher {@link CudaKernels#gptqMma}: grid,
 * split-K and the zeroing of y as the launcher chooses them for the device (132 SMs when simulated), against a
 * float64 reference in the checkpoint's original input order. The tiled layout is packed here from its
 * specification (docs/gpu-kernels.md, "Tiled GPTQ").
 *
 * <p>Tolerance: x and every dequantized weight are rounded to fp16 once (relative 2^-11 each; 2^-25 absolute for x
 * in fp16's subnormal range), products are exact and the sums are fp32 (one rounding per 16-input mma step, the
 * split-K atomics and the bias): {@code (2·2^-11 + 2^-22 + (k/16 + splitK + 2)·2^-24)·Σ|x·w| + 2^-25·Σ|w|}. On a
 * GPU the tensor cores' own accumulation differs in the last bits; the bound leaves room for that.
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
    void shapesOutsideTheLayoutAreRefusedWithTheirNumbers() {
        try (GpuDevice device = CudaTesting.device(); CudaKernels k = new CudaKernels(device)) {
            assertThatThrownBy(() -> k.gptqMma(0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 100, 64))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k=100");
            assertThatThrownBy(() -> k.gptqMma(0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 128, 96))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("n=96");
        }
    }

    @ParameterizedTest(name = "m={0} k={1} n={2} group={3} actOrder={4} bias={5}")
    @CsvSource({"1, 256, 64, 32, true, false", "17, 512, 256, 128, true, true", "70, 256, 128, -1, false, true",
                "9, 1024, 64, 64, false, false"})
    void matchesTheFloat64Reference(int m, int k, int n, int group, boolean actOrder, boolean bias) {
        Random rnd = new Random(1000L * m + 7L * k + n + group);
        int groups = group < 0 ? 1 : Math.ceilDiv(k, group);
        int[] g = new int[k];
        for (int i = 0; i < k; i++) g[i] = group < 0 ? 0 : i / group;
        if (actOrder) {
            for (int i = k - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1), t = g[i];
                g[i] = g[j];
                g[j] = t;
            }
        }
        int[][] q = new int[k][n];
        int[][] z = new int[groups][n];
        for (int[] row : q) for (int o = 0; o < n; o++) row[o] = rnd.nextInt(16);
        for (int[] row : z) for (int o = 0; o < n; o++) row[o] = rnd.nextInt(16);
        short[] scales = new short[groups * n];
        for (int i = 0; i < scales.length; i++) scales[i] = Float.floatToFloat16((0.002f + 0.05f * rnd.nextFloat()) * (rnd.nextInt(8) == 0 ? -1 : 1));
        short[] biasH = new short[n];
        for (int o = 0; o < n; o++) biasH[o] = Float.floatToFloat16(2 * rnd.nextFloat() - 1);
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) x[i] = 2 * rnd.nextFloat() - 1;

        // the tiled layout: inputs stably sorted by group, perm[p] = original input at p
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < k; i++) order.add(i);
        order.sort(Comparator.comparingInt(i -> g[i]));   // List.sort is stable
        int[] perm = order.stream().mapToInt(Integer::intValue).toArray();
        int[] qtiles = packTiles(q, perm, k, n);
        int[] tileGroup = new int[k / 16];
        for (int kt = 0; kt < k / 16; kt++) tileGroup[kt] = g[perm[kt * 16]];
        short[] zeros16 = new short[groups * n];
        for (int gr = 0; gr < groups; gr++) {
            for (int o = 0; o < n; o++) zeros16[gr * n + o] = Float.floatToFloat16(1024f + z[gr][o]);
        }

        float[] y = new float[m * n];
        Dim3 grid;
        try (GpuDevice device = CudaTesting.device();
             DeviceMemory mem = new DeviceMemory(device);
             CudaKernels kern = new CudaKernels(device)) {
            grid = CudaKernels.mmaGrid(m, k, n, device.multiprocessorCount());
            long dx = mem.upload(x), dPerm = actOrder ? mem.upload(perm) : 0, dTiles = mem.upload(qtiles);
            long dZeros = mem.upload(MemorySegment.ofArray(zeros16)), dScales = mem.upload(MemorySegment.ofArray(scales));
            long dGroup = mem.upload(tileGroup), dBias = bias ? mem.upload(MemorySegment.ofArray(biasH)) : 0;
            long dXh = mem.alloc(2L * m * k), dy = mem.alloc(4L * m * n);
            kern.gptqMma(dx, dPerm, dXh, dTiles, dZeros, dScales, dGroup, dBias, dy, m, k, n);
            mem.copyToHost(dy, y, y.length);
        }

        double steps = k / 16.0 + grid.z() + 2, worst = 0;
        for (int r = 0; r < m; r++) {
            for (int o = 0; o < n; o++) {
                double acc = bias ? Float.float16ToFloat(biasH[o]) : 0, mag = Math.abs(acc), wAbs = 0;
                for (int i = 0; i < k; i++) {
                    double w = Float.float16ToFloat(scales[g[i] * n + o]) * (q[i][o] - z[g[i]][o]);
                    double t = x[r * k + i] * w;
                    acc += t;
                    mag += Math.abs(t);
                    wAbs += Math.abs(w);
                }
                double tol = (2 * UH + UH * UH + steps * U) * mag + 0x1p-25 * wAbs * (1 + UH);
                double err = Math.abs(y[r * n + o] - acc);
                assertThat(err).as("y[%d, %d] = %s, want %s (grid %s)", r, o, y[r * n + o], acc, grid).isLessThanOrEqualTo(tol);
                worst = Math.max(worst, err / tol);
            }
        }
        System.out.printf("gptq_mma m=%d k=%d n=%d group=%d grid %s: worst |Δ|/tol = %.3f%n", m, k, n, group, grid, worst);
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
