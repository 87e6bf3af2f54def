package io.paddock.runtime.cuda;

import io.paddock.format.Tensor;
import io.paddock.model.DenseLinear;
import io.paddock.model.GptqLinear;
import io.paddock.model.LayerWeights;
import io.paddock.model.Linear;
import io.paddock.model.LlamaConfig;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.KvCacheDtype;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Device bytes as the CUDA runtime allocates them, computed without a device: the weights as {@code CudaWeights}
 * uploads them, the per-step buffers of {@code StepScratch}, the paged KV pool of {@code CudaKvStore} (fp16 or fp32).
 * {@link GpuMemoryPlan} adds these up at start-up; they are only worth trusting while they mirror those classes
 * exactly, so a change there must change the matching formula here (and StepScratch should size itself from
 * {@link #scratchBytes(LlamaConfig, int, int, int)}'s parts).
 *
 * <p>Figures are the requested sizes; cuMemAlloc's rounding is left to the share of free memory the plan does not
 * use (see {@link GpuMemoryPlan}).
 */
public final class GpuFootprint {
    private GpuFootprint() {}

    // ---- KV pool ----

    /** Keys and values of one token over all layers, fp32: {@code 2 · layers · kvHeads · headDim · 4}. */
    public static long kvBytesPerToken(LlamaConfig c) {
        return kvBytesPerToken(c, KvCacheDtype.F32);
    }

    /** Keys and values of one token over all layers in {@code dtype}: {@code 2 · layers · kvHeads · headDim · bytes}. */
    public static long kvBytesPerToken(LlamaConfig c, KvCacheDtype dtype) {
        return 2L * c.numLayers() * c.kvDim() * dtype.bytes();
    }

    // ---- fp16-KV attention scratch ----

    /** Positions of the context each decode partition covers at least, and the most partitions per row. */
    static final int MIN_PARTITION = 128, MAX_SPLITS = 64;

    /**
     * Positions per decode partition of paged_attention_decode_f16 for contexts up to {@code maxContext}: 128, or
     * more (a multiple of the kernel's 16-position tile) where 128 would need more than {@value #MAX_SPLITS}
     * partitions, which bounds the partial-result scratch for very long contexts. 128 rather than 512: a single
     * sequence of LLaMA-7B at a 2048-token context then has 32 × 16 = 512 blocks instead of 128, which the performance
     * model (docs/gpu-kernels.md) puts at 13 µs per layer instead of 23 (latency-bound with under one block per SM).
     */
    static int attentionPartition(int maxContext) {
        positive("maxContext", maxContext);
        return Math.max(MIN_PARTITION, Math.ceilDiv(Math.ceilDiv(maxContext, MAX_SPLITS), 16) * 16);
    }

    /** Decode partitions (grid z) for contexts up to {@code maxContext}: fixed by the reserved maximum context. */
    static int attentionSplits(int maxContext) {
        return Math.ceilDiv(maxContext, attentionPartition(maxContext));
    }

    /**
     * The fp16-KV attention buffers of StepScratch (none with fp32 KV): the prefill tile list (2 ints per row; a
     * tile has at least one row), and per decode slot (a single-row chunk, so at most {@code wanted} = one per
     * chunk) its row index and, per query head and partition, the partial output (headDim floats) and its max and
     * sum (2 floats), over {@link #attentionSplits} partitions of the model's context, and per kv head a partition
     * counter (1 int).
     */
    public static long attentionScratchBytes(LlamaConfig c, int rows, int wanted, KvCacheDtype dtype) {
        if (rows < 0 || wanted < 0) throw new IllegalArgumentException("sizes must be >= 0");
        if (dtype == KvCacheDtype.F32) return 0;
        long parts = (long) c.numHeads() * attentionSplits(c.maxPositionEmbeddings());
        return 4L * (2L * rows + wanted * (1 + parts * (c.headDim() + 2) + c.numKvHeads()));
    }

    // ---- step scratch ----

    /**
     * Widths in 4-byte words of StepScratch's per-row buffers, in its field order: the fp32 activations x (hidden),
     * xb (max(hidden, qDim)), q (qDim), k, v (kvDim each), att (qDim), gate, up (ff each) and the GPTQ input gather
     * xp (the widest linear input), then the int32 token, position and block-table offset of the row.
     */
    static long[] rowWidths(LlamaConfig c) {
        long h = c.hiddenSize(), qDim = c.qDim(), kvDim = c.kvDim(), ff = c.intermediateSize();
        long maxIn = Math.max(Math.max(h, qDim), ff);
        return new long[] {h, Math.max(h, qDim), qDim, kvDim, kvDim, qDim, ff, ff, maxIn, 1, 1, 1};
    }

    /** 4-byte words one step row takes: the sum of {@link #rowWidths}. */
    public static long rowWords(LlamaConfig c) {
        long words = 0;
        for (long w : rowWidths(c)) words += w;
        return words;
    }

    /** 4-byte words per row that wants logits: the final-normed hidden state and the fp32 logits. */
    public static long wantedWords(LlamaConfig c) {
        return (long) c.hiddenSize() + c.vocabSize();
    }

    /**
     * An upper bound on the block-table ints of one step: every chunk of a step is a different sequence with at
     * least one row, so there are at most {@code min(rows, maxSeqs)} chunks, and a chunk's table covers its
     * sequence up to the chunk's end, which never passes the context: at most {@code ceil(maxContext / blockSize)}
     * entries. At least 1, as StepPlan never hands over an empty table array.
     */
    public static int tableInts(int rows, int maxSeqs, int maxContext, int blockSize) {
        positive("rows", rows);
        positive("maxSeqs", maxSeqs);
        positive("maxContext", maxContext);
        positive("blockSize", blockSize);
        long chunks = Math.min(rows, maxSeqs);
        return Math.toIntExact(Math.max(1, chunks * Math.ceilDiv(maxContext, blockSize)));
    }

    /** StepScratch's buffers for {@code rows} rows, {@code wanted} logit rows and {@code tableInts} table entries. */
    public static long scratchBytes(LlamaConfig c, int rows, int wanted, int tableInts) {
        if (rows < 0 || wanted < 0 || tableInts < 0) throw new IllegalArgumentException("sizes must be >= 0");
        return 4L * (rows * rowWords(c) + wanted * wantedWords(c) + tableInts + splitPartialFloats(c, rows)
                + SPLIT_COUNTERS);
    }

    /** Split-K counters of the step's {@link SplitWorkspace}: a split launch needs one per output tile. */
    static final int SPLIT_COUNTERS = 1024;
    /** The most floats of split-K partials a step reserves (8 MiB). */
    static final long SPLIT_PARTIALS_MAX = 1L << 21;

    /**
     * Floats of split-K partials ({@link SplitWorkspace}) for steps of {@code rows} rows: 8 slices of the widest
     * fused projection (q/k/v or gate/up) per row, at most {@link #SPLIT_PARTIALS_MAX}. A launch whose wanted slices
     * do not fit runs with fewer (CudaKernels asks {@link SplitWorkspace#slices}).
     */
    static long splitPartialFloats(LlamaConfig c, int rows) {
        long widest = Math.max(Math.max((long) c.qDim() + 2L * c.kvDim(), 2L * c.intermediateSize()), c.hiddenSize());
        return Math.min(SPLIT_PARTIALS_MAX, 8L * rows * widest);
    }

    /**
     * The scratch of a step of at most {@code rows} rows and {@code maxSeqs} sequences: every buffer at its
     * largest, logits for {@code min(rows, maxSeqs)} rows (one per chunk at most) and the table bound of
     * {@link #tableInts}.
     */
    public static long scratchBytes(LlamaConfig c, int rows, int maxSeqs, int maxContext, int blockSize) {
        return scratchBytes(c, rows, Math.min(rows, maxSeqs), tableInts(rows, maxSeqs, maxContext, blockSize));
    }

    // ---- LoRA adapter slots ----

    /**
     * Inputs and outputs of the seven linear layers a LoRA adapter may target, in {@code LoraModule} order (q, k, v,
     * o, gate, up, down): {@code {in, out}} each.
     */
    static int[][] loraShapes(LlamaConfig c) {
        int h = c.hiddenSize(), qDim = c.qDim(), kvDim = c.kvDim(), ff = c.intermediateSize();
        return new int[][] {{h, qDim}, {h, kvDim}, {h, kvDim}, {qDim, h}, {h, ff}, {h, ff}, {ff, h}};
    }

    /**
     * Device bytes one adapter slot of rank up to {@code maxRank} takes, as CudaAdapters lays it out: per layer and
     * module fp32 A (maxRank, in) and B transposed (maxRank, out), plus the module's int rank and fp32 scale.
     */
    public static long adapterSlotBytes(LlamaConfig c, int maxRank) {
        long inOut = 0;
        for (int[] s : loraShapes(c)) inOut += s[0] + s[1];
        return 4L * maxRank * inOut * c.numLayers() + 2L * 4 * 7 * c.numLayers();
    }

    /** The per-step LoRA buffers for {@code rows} rows: each row's int32 slot and its fp32 (maxRank) shrink result. */
    public static long adapterStepBytes(int rows, int maxRank) {
        return 4L * rows * (1 + maxRank);
    }

    /** Everything {@code slots} adapter slots take for steps of up to {@code rows} rows; 0 without slots. */
    public static long adapterBytes(LlamaConfig c, int slots, int maxRank, int rows) {
        if (slots < 0 || maxRank < 0 || rows < 0) throw new IllegalArgumentException("sizes must be >= 0");
        if (slots == 0) return 0;
        return slots * adapterSlotBytes(c, maxRank) + adapterStepBytes(rows, maxRank);
    }

    // ---- weights ----

    /**
     * What CudaWeights uploads for these tensors: every tensor in its stored type (a tensor shared by the
     * embedding and a tied lm_head once), fp32 norms, GPTQ layers as {@link #gptqBytes(GptqLinear)}, and the fp32
     * RoPE tables.
     */
    public static long weightBytes(LlamaWeights w) {
        Set<Tensor> counted = Collections.newSetFromMap(new IdentityHashMap<>());
        long total = tensorOnce(w.embedding(), counted);
        for (LayerWeights l : w.layers()) {
            total += floatBytes(l.attentionNorm()) + floatBytes(l.mlpNorm());
            for (Linear lin : new Linear[] {l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down()}) {
                total += linearBytes(lin, counted);
            }
        }
        total += floatBytes(w.finalNorm());
        total += linearBytes(w.lmHead(), counted);
        return total + ropeBytes(w.config());
    }

    /**
     * The same for a hypothetical GPTQ checkpoint of shape {@code c}, as AutoGPTQ writes LLaMA: fp16 embedding and
     * fp16 lm_head, fp32 norms, the RoPE tables, and all seven linear layers of every block quantized with
     * {@code bits} and {@code groupSize} (-1: one group), without bias. With act-order a layer carries a gather
     * permutation, except where it has one group (its g_idx is then all zeros, already sorted).
     *
     * <p>The lm_head counts even where {@code tie_word_embeddings} is set: AutoGPTQ stores {@code lm_head.weight}
     * beside the embedding regardless (the stories260K GPTQ fixtures do), the loader then takes the stored one,
     * and the runtime uploads both. A tied checkpoint without that tensor needs {@code vocab · hidden · 2} less.
     */
    public static long weightBytes(LlamaConfig c, int bits, int groupSize, boolean actOrder) {
        long h = c.hiddenSize(), embedding = (long) c.vocabSize() * h * 2; // and as much again for lm_head
        int qDim = c.qDim(), kvDim = c.kvDim(), ff = c.intermediateSize(), hidden = c.hiddenSize();
        long perLayer = 2 * h * Float.BYTES
                + gptqBytes(hidden, qDim, bits, groupSize, actOrder)
                + 2 * gptqBytes(hidden, kvDim, bits, groupSize, actOrder)
                + gptqBytes(qDim, hidden, bits, groupSize, actOrder)
                + 2 * gptqBytes(hidden, ff, bits, groupSize, actOrder)
                + gptqBytes(ff, hidden, bits, groupSize, actOrder);
        return 2 * embedding + c.numLayers() * perLayer + h * Float.BYTES + ropeBytes(c);
    }

    /**
     * One GPTQ layer of {@code in} inputs and {@code out} outputs on the device: qweight (int32, in·bits/32 rows
     * of out), qzeros (int32, groups rows of out·bits/32), scales (fp16, groups × out), g_idx (int32, in; made up
     * where the file has none) and, with act-order, the int32 gather permutation (in). A layer eligible for the
     * tiled layout ({@link GptqTileLayout#eligible(int, int, int, int)}) instead has qtiles (as many bytes as
     * qweight), zeros16 (fp16, groups × out), scales, tileGroup (int32, in/16) and the permutation.
     */
    public static long gptqBytes(int in, int out, int bits, int groupSize, boolean actOrder) {
        long groups = groupSize == -1 ? 1 : Math.ceilDiv(in, groupSize);
        long qweight = Math.ceilDiv((long) in * bits, 32) * out * 4;
        long scales = groups * out * 2;
        long perm = actOrder && groups > 1 ? 4L * in : 0;
        if (GptqTileLayout.eligible(bits, in, out, groupSize)) {
            return GptqTileLayout.tiledBytes(bits, in, out, Math.toIntExact(groups), perm > 0) + scales;
        }
        long qzeros = groups * Math.ceilDiv((long) out * bits, 32) * 4;
        long gIdx = 4L * in;
        return qweight + qzeros + scales + gIdx + perm;
    }

    /**
     * A real GPTQ layer as uploaded: qweight (re-packed, same size), qzeros, scales and bias as stored, g_idx as
     * int32 (in), and the permutation (in) only where g_idx is not already non-decreasing, as GptqHostLayout
     * decides; an eligible 2/3/4/8-bit layer in the tiled layout instead (qtiles, zeros16, tileGroup, perm, scales,
     * bias).
     */
    public static long gptqBytes(GptqLinear l) {
        long b;
        if (GptqTileLayout.eligible(l)) {   // qtiles (the qweight's bytes), zeros16, tileGroup, perm; scales
            b = GptqTileLayout.tiledBytes(l.spec().bits(), l.inFeatures(), l.outFeatures(),
                    Math.toIntExact(l.scales().info().dim(0)),
                    !sortedByGroup(l)) + l.scales().data().byteSize();
        } else {
            b = l.qweight().data().byteSize() + l.qzeros().data().byteSize() + l.scales().data().byteSize()
                    + 4L * l.inFeatures();
            if (!sortedByGroup(l)) b += 4L * l.inFeatures();
        }
        return l.bias() == null ? b : b + l.bias().data().byteSize();
    }

    /** The fp32 cos and sin tables, (max_position_embeddings, headDim/2) each, as the runtime builds them. */
    public static long ropeBytes(LlamaConfig c) {
        return 2L * c.maxPositionEmbeddings() * (c.headDim() / 2) * Float.BYTES;
    }

    private static long linearBytes(Linear lin, Set<Tensor> counted) {
        return switch (lin) {
            case DenseLinear d -> tensorOnce(d.weight(), counted);
            case GptqLinear g -> gptqBytes(g);
        };
    }

    private static long tensorOnce(Tensor t, Set<Tensor> counted) {
        return counted.add(t) ? t.data().byteSize() : 0;
    }

    private static long floatBytes(float[] a) {
        return (long) a.length * Float.BYTES;
    }

    private static boolean sortedByGroup(GptqLinear l) {
        for (int i = 1; i < l.inFeatures(); i++) {
            if (l.group(i) < l.group(i - 1)) return false;
        }
        return true;
    }

    private static void positive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(name + " must be > 0, got " + v);
    }
}
