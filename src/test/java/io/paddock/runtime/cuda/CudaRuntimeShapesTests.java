package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.bench.SyntheticCheckpoint;
import io.paddock.bench.SyntheticShape;
import io.paddock.bench.SyntheticSpec;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.KvStore;
import io.paddock.runtime.StepChunk;
import io.paddock.runtime.cpu.CpuLlama;
import io.paddock.runtime.cpu.Parallel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA runtime on sizes the stories260K fixtures never reach, each against the CPU runtime on the same synthetic
 * checkpoint: groups that straddle the kernels' 32-input units, split-K decode on LLaMA-7B-shaped layers, batches of
 * 5-32 rows (the batched GPTQ kernel; gptq_gemv_tiled in passes of 8 rows for tiled layers), and contexts of
 * thousands of tokens prefilled in chunks. Tolerance as the fixture parity tests: |Δlogit| ≤ rel·(1 + max|logit|),
 * rel = {@link CudaTesting#logitRel} (1e-3, or 4e-3 where tiled layers run on fp16 activations). KV in f16 on both sides (the default), and in f32 on
 * both sides where a test loops over {@link #KV_TYPES}.
 */
class CudaRuntimeShapesTests {
    static final KvCacheDtype[] KV_TYPES = {KvCacheDtype.F16, KvCacheDtype.F32};
    @TempDir
    static Path tmp;

    private static Path synth(String name, SyntheticShape shape, int layers, int bits, int groupSize, boolean actOrder) {
        return SyntheticCheckpoint.write(new SyntheticSpec(shape, layers, SyntheticSpec.Format.GPTQ, bits, groupSize,
                actOrder, 11), tmp.resolve(name));
    }

    /** Both runtimes over the same checkpoint, closed together. */
    private record Pair(LlamaCheckpoint ckpt, Parallel parallel, CpuLlama cpu, CudaRuntime gpu) implements AutoCloseable {
        static Pair open(Path dir) {
            return open(dir, KvCacheDtype.F16);
        }

        /** Both with their KV cache in {@code kv}. */
        static Pair open(Path dir, KvCacheDtype kv) {
            LlamaCheckpoint ckpt = LlamaCheckpoint.open(dir, GptqOverrides.NONE);
            Parallel p = new Parallel(2);
            return new Pair(ckpt, p, CudaTesting.cpuReference(ckpt.weights(), p, kv), CudaTesting.runtime(ckpt.weights(), kv));
        }

        @Override
        public void close() {
            try (gpu; cpu; parallel; ckpt) {
                // closes in reverse order
            }
        }
    }

    private static void assertLogitsClose(String what, float[] ref, float[] got, float rel) {
        assertThat(got).as(what).isNotNull().hasSameSizeAs(ref);
        float tol = rel * (1 + CudaTesting.maxAbs(ref));
        float worst = 0;
        for (int i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - got[i]));
        System.out.printf("%s: max |Δlogit| = %.3g (tolerance %.3g)%n", what, worst, tol);
        assertThat(worst).as("%s: max |Δlogit| (tolerance %s)", what, tol).isLessThanOrEqualTo(tol);
    }

    private static int[] tokens(Random r, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 1 + r.nextInt(vocab - 1);
        return t;
    }

    private static int[] table(int first, int blocks) {
        int[] t = new int[blocks];
        for (int i = 0; i < blocks; i++) t[i] = first + i;
        return t;
    }

    /** Runs the same steps on both runtimes and compares every logits row either returns. */
    private static void sameSteps(Pair p, int numBlocks, int blockSize, List<List<StepChunk>> steps) {
        KvStore cpuKv = p.cpu().newKvStore(numBlocks, blockSize);
        float rel = CudaTesting.logitRel(p.ckpt().weights());
        try (CudaKvStore gpuKv = p.gpu().newKvStore(numBlocks, blockSize)) {
            for (int s = 0; s < steps.size(); s++) {
                float[][] ref = p.cpu().forward(cpuKv, steps.get(s));
                float[][] got = p.gpu().forward(gpuKv, steps.get(s));
                for (int c = 0; c < ref.length; c++) {
                    if (ref[c] == null) assertThat(got[c]).isNull();
                    else assertLogitsClose("step " + s + " chunk " + c, ref[c], got[c], rel);
                }
            }
        }
    }

    @Test
    void groupsOf16StraddleEveryUnitWithActOrder() {
        // Group 16 < 32: every 32-input unit spans two groups, so the kernels take the per-input lookup path.
        for (KvCacheDtype kv : KV_TYPES) try (Pair p = Pair.open(synth("g16", SyntheticShape.TINY, 2, 4, 16, true), kv)) {
            Random r = new Random(1);
            int vocab = p.ckpt().config().vocabSize();
            int[] prompt = tokens(r, 21, vocab);
            List<List<StepChunk>> steps = new ArrayList<>();
            steps.add(List.of(new StepChunk(table(0, 4), prompt, 0, true)));
            for (int i = 0; i < 3; i++) steps.add(List.of(new StepChunk(table(0, 4), tokens(r, 1, vocab), 21 + i, true)));
            sameSteps(p, 4, 16, steps);
        }
    }

    @Test
    void eightTwoAndThreeBitLayersTiledWithSplitK() {
        // 8-, 2- and 3-bit g32 act-order: every projection of the tiny shape is tiled (out % 64 == 0) and runs
        // gptq_gemv_tiled_b8 / _b2 / _b3 at every row count: a 21-token prefill in passes of 8, 8 and 5 rows, then decode.
        // On the 132-SM simulated device 256→256 splits K two ways and 768→256 six.
        assertThat(CudaKernels.gemvSplitK(256 / 64, 256 / 16, 132)).isEqualTo(2);
        assertThat(CudaKernels.gemvSplitK(256 / 64, 768 / 16, 132)).isEqualTo(6);
        for (int bits : new int[] {8, 2, 3}) {
            try (Pair p = Pair.open(synth("b" + bits + "tiled", SyntheticShape.TINY, 1, bits, 32, true))) {
                assertThat(CudaTesting.tiled(p.ckpt().weights())).isTrue();
                Random r = new Random(bits);
                int vocab = p.ckpt().config().vocabSize();
                List<List<StepChunk>> steps = new ArrayList<>();
                steps.add(List.of(new StepChunk(table(0, 2), tokens(r, 21, vocab), 0, true)));
                for (int i = 0; i < 3; i++) {
                    steps.add(List.of(new StepChunk(table(0, 2), tokens(r, 1, vocab), 21 + i, true)));
                }
                sameSteps(p, 2, 16, steps);
            }
        }
    }

    @Test
    void threeBitGroupsOf16InStoredOrder() {
        // 3 bits, groups of 16 (one k-tile each) without act-order: tiled, no permutation, a group change every tile.
        try (Pair p = Pair.open(synth("b3g16", SyntheticShape.TINY, 1, 3, 16, false))) {
            assertThat(CudaTesting.tiled(p.ckpt().weights())).isTrue();
            Random r = new Random(2);
            int vocab = p.ckpt().config().vocabSize();
            sameSteps(p, 2, 16, List.of(List.of(new StepChunk(table(0, 2), tokens(r, 9, vocab), 0, true)),
                    List.of(new StepChunk(table(0, 2), tokens(r, 1, vocab), 9, true))));
        }
    }

    @Test
    void decodeBatchesOf5To32() {
        // Decode steps of 5, 17 and 32 rows run the batched GPTQ kernel (more than 4 rows); every row must match.
        for (KvCacheDtype kv : KV_TYPES) try (Pair p = Pair.open(synth("batch", SyntheticShape.TINY, 2, 4, 128, true), kv)) {
            Random r = new Random(3);
            int vocab = p.ckpt().config().vocabSize(), seqs = 32, blocks = 3, blockSize = 8;
            int[] lengths = new int[seqs];
            List<StepChunk> prefill = new ArrayList<>();
            for (int s = 0; s < seqs; s++) {
                lengths[s] = 1 + r.nextInt(12);
                prefill.add(new StepChunk(table(s * blocks, blocks), tokens(r, lengths[s], vocab), 0, s % 3 == 0));
            }
            List<List<StepChunk>> steps = new ArrayList<>();
            steps.add(prefill);
            for (int batch : new int[] {5, 17, 32}) {
                List<StepChunk> step = new ArrayList<>();
                for (int s = 0; s < batch; s++) {
                    step.add(new StepChunk(table(s * blocks, blocks), tokens(r, 1, vocab), lengths[s], true));
                    lengths[s]++;
                }
                steps.add(step);
            }
            sameSteps(p, seqs * blocks, blockSize, steps);
        }
    }

    @Test
    void contextOfThousandsOfTokensInChunks() {
        // 2100 tokens prefilled in chunks of 512 across 132 blocks of 16 (the table in reverse order, so no two
        // neighbouring positions share a block run), then decode to 2103: attention over thousands of positions and
        // many block boundaries. One narrow layer with one head keeps the emulated attention affordable (its cost
        // grows with tokens² · heads); the kernel tests cover wide heads and GQA at these lengths.
        SyntheticShape narrow = new SyntheticShape("narrow-long", 64, 128, 1, 1, 1, SyntheticShape.TINY.vocab(), 4096, 1e-5);
        // With f16 KV the 3 decode steps run flash-decoding over 17 of the 32 partitions of 128 (context 4096) and the
        // reduce kernel; the 512-row chunks run the prefill kernel in 32 tiles of 16 rows.
        for (KvCacheDtype kv : KV_TYPES) try (Pair p = Pair.open(synth("long", narrow, 1, 4, 32, false), kv)) {
            Random r = new Random(4);
            int vocab = p.ckpt().config().vocabSize(), blockSize = 16, blocks = 132, length = 2100;
            int[] table = new int[blocks];
            for (int i = 0; i < blocks; i++) table[i] = blocks - 1 - i;
            int[] prompt = tokens(r, length, vocab);
            List<List<StepChunk>> steps = new ArrayList<>();
            for (int start = 0; start < length; start += 512) {
                int end = Math.min(length, start + 512);
                steps.add(List.of(new StepChunk(table, Arrays.copyOfRange(prompt, start, end), start, true)));
            }
            for (int i = 0; i < 3; i++) steps.add(List.of(new StepChunk(table, tokens(r, 1, vocab), length + i, true)));
            sameSteps(p, blocks, blockSize, steps);
        }
    }

    @Test
    void fusedProjectionsAddIntoTheResidualInEightLaunchesALayer() {
        // 2 heads of 64 (q, k and v 128 wide each, whole 64-column panels), act-order g32: the synthetic checkpoint,
        // like GPTQ, gives the layers of one input one g_idx, so q/k/v and gate/up fuse. A decode step is then the
        // embedding, 8 launches a layer (norm, q/k/v, RoPE + KV store, attention, o += x, norm, gate/up,
        // down with SwiGLU += x), the final norm and the lm_head; the logits stay the CPU's.
        SyntheticShape shape = new SyntheticShape("fused", 128, 256, 2, 2, 2, SyntheticShape.TINY.vocab(), 512, 1e-5);
        try (Pair p = Pair.open(synth("fused", shape, 2, 4, 32, true))) {
            Random r = new Random(9);
            int vocab = p.ckpt().config().vocabSize();
            List<List<StepChunk>> steps = new ArrayList<>();
            steps.add(List.of(new StepChunk(table(0, 2), tokens(r, 20, vocab), 0, true)));
            for (int i = 0; i < 3; i++) steps.add(List.of(new StepChunk(table(0, 2), tokens(r, 1, vocab), 20 + i, true)));
            sameSteps(p, 2, 16, steps);
            try (CudaKvStore kv = p.gpu().newKvStore(2, 16)) {
                p.gpu().forward(kv, steps.get(0));
                long before = p.gpu().kernelLaunches();
                p.gpu().forward(kv, steps.get(1));
                assertThat(p.gpu().kernelLaunches() - before).isEqualTo(1 + 2 * 8 + 2);
            }
        }
    }

    @Test
    void llama7bShapedLayersWithSplitK() {
        // One LLaMA-7B layer (4096 hidden, 11008 ff, 32 heads of 128, vocab 32000), 4-bit g128 act-order: every
        // projection in the tiled layout. On a 132-SM device gptq_gemv_tiled splits K five ways for 4096→4096 and
        // 11008→4096 (64 panels) and two ways for 4096→11008 (172 panels), atomicAdd into a zeroed y.
        assertThat(CudaKernels.gemvSplitK(4096 / 64, 4096 / 16, 132)).isEqualTo(5);
        assertThat(CudaKernels.gemvSplitK(11008 / 64, 4096 / 16, 132)).isEqualTo(2);
        assertThat(CudaKernels.gemvSplitK(4096 / 64, 11008 / 16, 132)).isEqualTo(5);
        try (Pair p = Pair.open(synth("llama7b", SyntheticShape.LLAMA_7B, 1, 4, 128, true))) {
            Random r = new Random(5);
            int vocab = p.ckpt().config().vocabSize();
            List<List<StepChunk>> steps = new ArrayList<>();
            steps.add(List.of(new StepChunk(table(0, 1), tokens(r, 6, vocab), 0, true)));
            for (int i = 0; i < 2; i++) steps.add(List.of(new StepChunk(table(0, 1), tokens(r, 1, vocab), 6 + i, true)));
            sameSteps(p, 1, 16, steps);
        }
    }

    @Test
    void stepBeyondTheReservedScratchIsRefused() {
        try (Pair p = Pair.open(synth("limits", SyntheticShape.TINY, 1, 4, 128, false))) {
            p.gpu().reserveStep(8, 2, 16);
            try (CudaKvStore kv = p.gpu().newKvStore(4, 16)) {
                Random r = new Random(6);
                int vocab = p.ckpt().config().vocabSize();
                assertThat(p.gpu().forward(kv, List.of(new StepChunk(table(0, 1), tokens(r, 8, vocab), 0, true)))[0]).isNotNull();
                assertThatThrownBy(() -> p.gpu().forward(kv,
                                List.of(new StepChunk(table(0, 1), tokens(r, 9, vocab), 0, true))))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("exceeds the reserved scratch");
            }
        }
    }

}
