package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.runtime.RopeTable;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * rope_kv_store_f16 (paged_attention.cu) through {@link CudaKernels#ropeKvStoreF16} against the three launches it
 * replaces — {@link CudaKernels#rope} on q, on k, then {@link CudaKernels#kvStoreF16} — on the same device and the
 * same inputs: q and k (rotated in place) and both fp16 pools must agree bit for bit, and pool slots that no row
 * writes keep their poison. Rows: a prefill chunk of one sequence (one shared block table) and decode rows of
 * others, over shuffled block tables. Independently of the old kernels, the rotated q and k are held against a
 * float64 rotation with the {@link RopeTable} values (two products and a sum, each rounded: within
 * 2u·(|a·c| + |b·s|), u = 2^-24) and every written pool entry is {@link Float#floatToFloat16} of the fp32 k or v.
 */
class CudaRopeKvStoreTests {
    private static final double U = 0x1p-24;
    private static final short POISON = 0x7e01;   // an fp16 NaN the kernels never write
    private static final int MAX_POS = 2048;

    @ParameterizedTest(name = "heads={0} kvHeads={1} headDim={2} blockSize={3} tables={4} theta={5}")
    @CsvSource({"4, 4, 64, 16, true, 10000", "4, 4, 64, 1, false, 10000", "32, 8, 128, 16, false, 500000",
                "16, 4, 128, 1, true, 500000", "8, 1, 80, 16, true, 10000", "8, 1, 80, 1, false, 10000"})
    void oneLaunchIsBitIdenticalToRopeRopeAndKvStore(int heads, int kvHeads, int headDim, int blockSize,
            boolean tables, double theta) {
        Random rnd = new Random(1000L * heads + 100L * kvHeads + headDim + 7L * blockSize + (tables ? 1 : 0));
        int kvDim = kvHeads * headDim, qDim = heads * headDim, half = headDim / 2;
        int[] lengths = {MAX_POS, 37, 5};
        // rows: positions 2040..2043 of sequence 0 (one chunk) out of order, decode rows of 1 and 2, sequence 0's last
        int[] seq = {0, 0, 0, 0, 1, 2, 0};
        int[] pos = {2040, 2042, 2041, 2043, 36, 0, MAX_POS - 1};
        int rows = seq.length;
        List<Integer> ids = new ArrayList<>();
        int needed = 0;
        for (int len : lengths) needed += Math.ceilDiv(len, blockSize);
        int numBlocks = needed + 3;   // spare blocks nobody writes
        for (int i = 0; i < numBlocks; i++) ids.add(i);
        Collections.shuffle(ids, rnd);
        List<Integer> tableList = new ArrayList<>();
        int[] start = new int[lengths.length];
        for (int s = 0; s < lengths.length; s++) {
            start[s] = tableList.size();
            for (int b = 0; b < Math.ceilDiv(lengths[s], blockSize); b++) tableList.add(ids.get(tableList.size()));
        }
        int[] blockTables = tableList.stream().mapToInt(Integer::intValue).toArray();
        int[] offset = new int[rows];
        for (int r = 0; r < rows; r++) offset[r] = start[seq[r]];

        float[] q = random(rnd, rows * qDim), k = random(rnd, rows * kvDim), v = random(rnd, rows * kvDim);
        RopeTable rope = RopeTable.create(headDim, MAX_POS, theta);
        int poolElems = numBlocks * blockSize * kvDim;
        short[] poison = new short[poolElems];
        Arrays.fill(poison, POISON);

        float[] qOld = new float[q.length], kOld = new float[k.length];
        float[] qNew = new float[q.length], kNew = new float[k.length];
        short[] kpOld = new short[poolElems], vpOld = new short[poolElems];
        short[] kpNew = new short[poolElems], vpNew = new short[poolElems];
        try (GpuDevice device = CudaTesting.device();
             DeviceMemory mem = new DeviceMemory(device);
             CudaKernels kernels = new CudaKernels(device)) {
            long dTables = mem.upload(blockTables), dOffset = mem.upload(offset), dPos = mem.upload(pos);
            long dv = mem.upload(v);
            long cos = tables ? mem.upload(rope.cos()) : 0, sin = tables ? mem.upload(rope.sin()) : 0;
            // the three launches
            long dq = mem.upload(q), dk = mem.upload(k);
            long kp = mem.upload(MemorySegment.ofArray(poison)), vp = mem.upload(MemorySegment.ofArray(poison));
            kernels.rope(dq, dPos, rows, heads, qDim, headDim, cos, sin, theta);
            kernels.rope(dk, dPos, rows, kvHeads, kvDim, headDim, cos, sin, theta);
            kernels.kvStoreF16(kp, vp, dk, dv, dTables, dOffset, dPos, rows, kvDim, blockSize);
            mem.copyToHost(dq, qOld, qOld.length);
            mem.copyToHost(dk, kOld, kOld.length);
            device.copyToHost(MemorySegment.ofArray(kpOld), kp);
            device.copyToHost(MemorySegment.ofArray(vpOld), vp);
            // the one launch, on fresh copies of the same inputs
            long dq2 = mem.upload(q), dk2 = mem.upload(k);
            long kp2 = mem.upload(MemorySegment.ofArray(poison)), vp2 = mem.upload(MemorySegment.ofArray(poison));
            long launches = kernels.launches();
            kernels.ropeKvStoreF16(dq2, dk2, dv, kp2, vp2, dTables, dOffset, dPos, rows, heads, kvHeads, headDim,
                    blockSize, cos, sin, theta);
            assertThat(kernels.launches() - launches).isEqualTo(1);
            mem.copyToHost(dq2, qNew, qNew.length);
            mem.copyToHost(dk2, kNew, kNew.length);
            device.copyToHost(MemorySegment.ofArray(kpNew), kp2);
            device.copyToHost(MemorySegment.ofArray(vpNew), vp2);
        }

        for (int i = 0; i < q.length; i++) {
            assertThat(Float.floatToRawIntBits(qNew[i])).as("q[%d]", i).isEqualTo(Float.floatToRawIntBits(qOld[i]));
        }
        for (int i = 0; i < k.length; i++) {
            assertThat(Float.floatToRawIntBits(kNew[i])).as("k[%d]", i).isEqualTo(Float.floatToRawIntBits(kOld[i]));
        }
        for (int i = 0; i < poolElems; i++) {
            if (kpNew[i] != kpOld[i] || vpNew[i] != vpOld[i]) {
                throw new AssertionError("pool element " + i + ": k " + kpNew[i] + " vs " + kpOld[i] + ", v " + vpNew[i]
                        + " vs " + vpOld[i]);
            }
        }

        // Independent of the old kernels: the rotation against float64, the pool against Float.floatToFloat16.
        boolean[] written = new boolean[poolElems];
        double worst = 0;
        for (int r = 0; r < rows; r++) {
            int p = pos[r];
            int slot = (blockTables[offset[r] + p / blockSize] * blockSize + p % blockSize) * kvDim;
            for (int d = 0; d < kvDim; d++) {
                written[slot + d] = true;
                assertThat(kpNew[slot + d]).as("k pool row %d element %d", r, d)
                        .isEqualTo(Float.floatToFloat16(kNew[r * kvDim + d]));
                assertThat(vpNew[slot + d]).as("v pool row %d element %d", r, d)
                        .isEqualTo(Float.floatToFloat16(v[r * kvDim + d]));
            }
            for (int[] hs : new int[][] {{heads, qDim}, {kvHeads, kvDim}}) {
                float[] before = hs[0] == heads ? q : k, after = hs[0] == heads ? qNew : kNew;
                for (int h = 0; h < hs[0]; h++) {
                    for (int i = 0; i < half; i++) {
                        int lo = r * hs[1] + h * headDim + i, hi = lo + half;
                        double c = rope.cos()[p * half + i], s = rope.sin()[p * half + i];
                        double a = before[lo], b = before[hi];
                        double tLo = 2.0001 * U * (Math.abs(a * c) + Math.abs(b * s)) + 1e-37;
                        double tHi = 2.0001 * U * (Math.abs(b * c) + Math.abs(a * s)) + 1e-37;
                        double eLo = Math.abs(after[lo] - (a * c - b * s)), eHi = Math.abs(after[hi] - (b * c + a * s));
                        assertThat(eLo).as("row %d head %d element %d", r, h, i).isLessThanOrEqualTo(tLo);
                        assertThat(eHi).as("row %d head %d element %d", r, h, half + i).isLessThanOrEqualTo(tHi);
                        worst = Math.max(worst, Math.max(eLo / tLo, eHi / tHi));
                    }
                }
            }
        }
        for (int i = 0; i < poolElems; i++) {
            if (!written[i] && (kpNew[i] != POISON || vpNew[i] != POISON)) {
                throw new AssertionError("pool element " + i + " is written by no row but changed");
            }
        }
        System.out.printf("rope_kv_store_f16 heads=%d kv=%d hd=%d bs=%d tables=%s: bit-identical;"
                + " rotation worst |Δ|/tol = %.3f%n", heads, kvHeads, headDim, blockSize, tables, worst);
    }

    @Test
    void badShapesAreRefusedWithTheirNumbers() {
        try (GpuDevice device = CudaTesting.device(); CudaKernels k = new CudaKernels(device)) {
            assertThatThrownBy(() -> k.ropeKvStoreF16(0, 0, 0, 0, 0, 0, 0, 0, 1, 6, 4, 64, 16, 0, 0, 1e4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("heads=6 kvHeads=4");
            assertThatThrownBy(() -> k.ropeKvStoreF16(0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 4, 63, 16, 0, 0, 1e4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("headDim=63");
            assertThatThrownBy(() -> k.ropeKvStoreF16(0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 4, 64, 0, 0, 0, 1e4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blockSize=0");
            assertThatThrownBy(() -> k.ropeKvStoreF16(0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 4, 64, 16, 8, 0, 1e4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cos=true sin=false");
            assertThatThrownBy(() -> k.ropeKvStoreF16(0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 64, 16, 0, 0, 1e4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rows=0");
        }
    }

    /** Values over many binades (fp16 subnormals, rounding, overflow to inf once rotated). */
    private static float[] random(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (rnd.nextFloat() * 2 - 1) * (float) Math.scalb(1.0, rnd.nextInt(44) - 26);
        return x;
    }
}
