package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * lora_shrink and lora_expand (lora.cu) through the runtime's own launchers, against a float64 scalar reference:
 * three slots (full rank, a lower rank, and rank 0 for an adapter that leaves this module alone) over rows that mix
 * them with base-model rows (slot 0). Rows of slot 0 and of the rank-0 slot must keep the base output bit for bit.
 *
 * <p>Tolerance per output: the shrink chains ceil(in/32) fmaf per lane then 5 butterfly additions, the expand rank
 * fmaf then one fmaf into y, so with u = 2^-24 the error is within
 * {@code (ceil(in/32) + rank + 8) · u · (|y0| + |scale| · Σ_j |B_oj| · Σ_i |A_ji x_i|)}: a worst-case bound, far
 * below what a wrong index, slot or scale would cost.
 */
class CudaLoraKernelsTests {
    private static final double U = 1.0 / (1 << 24);

    @ParameterizedTest(name = "rows={0} in={1} out={2} maxRank={3}")
    @CsvSource({"9, 100, 37, 8", "5, 64, 300, 16", "1, 33, 1, 3", "12, 192, 64, 12"})
    void shrinkAndExpandMatchTheFloat64Reference(int rows, int in, int out, int maxRank) {
        Random rnd = new Random(31L * rows + in + 7L * out + maxRank);
        int slots = 3;
        int[] rank = {maxRank, Math.max(1, maxRank / 3), 0};   // slot 3: the adapter lacks this module
        float[] scale = {0.5f, 2.0f, 4.0f};
        int[] rowSlot = new int[rows];
        for (int r = 0; r < rows; r++) rowSlot[r] = r % 4 == 0 ? 0 : 1 + rnd.nextInt(slots);
        if (rows > 1) rowSlot[rows - 1] = 1;   // at least one adapted row
        float[] x = random(rnd, rows * in, 1f);
        float[] a = random(rnd, slots * maxRank * in, 0.3f);    // (slots, maxRank, in); rows past the rank unread
        float[] bt = random(rnd, slots * maxRank * out, 0.3f);  // (slots, maxRank, out): B transposed
        float[] y0 = random(rnd, rows * out, 2f);

        float[] y = new float[rows * out];
        try (GpuDevice device = CudaTesting.device();
             DeviceMemory mem = new DeviceMemory(device);
             CudaKernels k = new CudaKernels(device)) {
            long dx = mem.upload(x), da = mem.upload(a), dbt = mem.upload(bt), dy = mem.upload(y0);
            long dSlot = mem.upload(rowSlot), dRank = mem.upload(rank), dScale = mem.upload(scale);
            long dt = mem.alloc(4L * rows * maxRank);
            k.loraShrink(dx, da, dSlot, dRank, dt, rows, in, maxRank);
            k.loraExpand(dt, dbt, dSlot, dRank, dScale, dy, rows, out, maxRank);
            mem.copyToHost(dy, y, y.length);
        }

        double worst = 0;
        for (int r = 0; r < rows; r++) {
            int s = rowSlot[r];
            int rk = s == 0 ? 0 : rank[s - 1];
            for (int o = 0; o < out; o++) {
                int e = r * out + o;
                if (rk == 0) {
                    assertThat(y[e]).as("row %d (slot %d) output %d is the base output", r, s, o).isEqualTo(y0[e]);
                    continue;
                }
                double acc = 0, mag = 0;
                for (int j = 0; j < rk; j++) {
                    double t = 0, tm = 0;
                    for (int i = 0; i < in; i++) {
                        double p = (double) a[((s - 1) * maxRank + j) * in + i] * x[r * in + i];
                        t += p;
                        tm += Math.abs(p);
                    }
                    double b = bt[((s - 1) * maxRank + j) * out + o];
                    acc += b * t;
                    mag += Math.abs(b) * tm;
                }
                double want = y0[e] + scale[s - 1] * acc;
                double tol = (Math.ceilDiv(in, 32) + rk + 8) * U * (Math.abs(y0[e]) + Math.abs(scale[s - 1]) * mag);
                assertThat(Math.abs(y[e] - want)).as("row %d (slot %d) output %d: got %s, want %s", r, s, o, y[e], want)
                        .isLessThanOrEqualTo(tol);
                worst = Math.max(worst, Math.abs(y[e] - want) / tol);
            }
        }
        System.out.printf("lora kernels rows=%d in=%d out=%d maxRank=%d: worst |Δ|/tol = %.3f%n", rows, in, out, maxRank, worst);
    }

    private static float[] random(Random rnd, int n, float range) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (rnd.nextFloat() * 2 - 1) * range;
        return v;
    }
}
