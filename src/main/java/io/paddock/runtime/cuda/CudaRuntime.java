package io.paddock.runtime.cuda;

import io.paddock.lora.LoraAdapter;
import io.paddock.lora.LoraModule;
import io.paddock.model.LlamaConfig;
import io.paddock.runtime.DeviceMemoryReport;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.KvStore;
import io.paddock.runtime.ModelRuntime;
import io.paddock.runtime.RopeTable;
import io.paddock.runtime.StepChunk;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The LLaMA forward pass on a {@link GpuDevice}, step for step the same as {@code CpuLlama}: fp32 activations,
 * weights in their stored types, KV in a paged fp16 pool (fp32 on request: {@link #useKvCacheDtype}). Weights are
 * uploaded once in the constructor; the step scratch is allocated for the engine's step limits
 * ({@link #reserveStep}) before the KV pool, and reused; {@link #close()} frees every device allocation and then
 * closes the device, which this runtime owns. Not thread-safe: the engine thread owns it.
 */
public final class CudaRuntime implements ModelRuntime {
    /** Step limits until the engine reserves its own: the engine's default token budget and batch size. */
    static final int DEFAULT_MAX_ROWS = 512, DEFAULT_MAX_SEQS = 64, DEFAULT_BLOCK_SIZE = 16;

    private final LlamaConfig c;
    private final GpuDevice device;
    private final DeviceMemory memory;
    private final CudaKernels kernels;
    private final CudaWeights weights;
    private final GpuMemoryPlan.Device atStart;   // the device's memory before this runtime allocated anything
    private final GpuMemoryPlan.Model model;
    private GpuMemoryPlan plan;
    private StepScratch scratch;
    private GpuMemoryPlan.Adapters adapterLimits = GpuMemoryPlan.Adapters.NONE;
    private KvCacheDtype kvDtype = KvCacheDtype.F16;
    private CudaAdapters adapters;   // null without reserved slots
    private final CudaGraphs graphs;   // null with graphs off
    private boolean graphsPaused;      // graphs kept but not used (benchmarks compare both ways on one runtime)
    private long weightsBytes;  // device bytes the uploaded weights (and RoPE tables) took
    private long scratchBytes;  // device bytes the step scratch in force took
    private boolean closed;

    /** On CUDA device 0 through the driver, with the options from system properties. */
    public CudaRuntime(LlamaWeights w) {
        this(w, CudaOptions.fromSystemProperties());
    }

    private CudaRuntime(LlamaWeights w, CudaOptions options) {
        this(w, JCudaDevice.open(options), options.graphs());
    }

    /** On {@code device}, with decode-step graphs as {@code -Dpaddock.cuda.graphs} says (default on). */
    public CudaRuntime(LlamaWeights w, GpuDevice device) {
        this(w, device, CudaOptions.graphs(System.getProperty("paddock.cuda.graphs")));
    }

    /**
     * On {@code device}, which this runtime closes with itself (also when the constructor fails). Plans the memory
     * before uploading anything: a model whose weights, default step scratch and one full context of KV do not fit
     * fails here with a {@link GpuMemoryPlanException} that shows the arithmetic. With {@code graphs}, decode steps
     * run as CUDA graphs ({@link CudaGraphs}).
     */
    public CudaRuntime(LlamaWeights w, GpuDevice device, boolean graphs) {
        this.c = w.config();
        this.device = device;
        this.memory = new DeviceMemory(device);
        CudaKernels k = null;
        try {
            if (c.headDim() > 256) throw new IllegalArgumentException("paged_attention_f32 supports headDim <= 256, got " + c.headDim());
            kvDtype = resolve(KvCacheDtype.AUTO);
            CudaDevices.MemInfo mem = device.memInfo();
            this.atStart = new GpuMemoryPlan.Device(device.name(), mem.freeBytes(), mem.totalBytes());
            this.model = new GpuMemoryPlan.Model(describe(c), c, GpuFootprint.weightBytes(w));
            this.plan = plan(DEFAULT_MAX_ROWS, DEFAULT_MAX_SEQS, DEFAULT_BLOCK_SIZE, 1);
            k = new CudaKernels(device);
            RopeTable rope = RopeTable.create(c.headDim(), c.maxPositionEmbeddings(), c.ropeTheta());
            this.weights = new CudaWeights(w, rope, memory);
            this.weightsBytes = memory.bytes();
            this.scratch = newScratch(plan);
            device.synchronize();
            this.kernels = k;
            this.graphs = graphs ? new CudaGraphs(device, CudaGraphs.DEFAULT_CAPACITY) : null;
        } catch (RuntimeException | Error e) {
            try {
                if (k != null) k.close();
                memory.close();
            } finally {
                device.close();
            }
            throw e;
        }
    }

    private static String describe(LlamaConfig c) {
        return "model (" + c.numLayers() + " layers, hidden " + c.hiddenSize() + ")";
    }

    private GpuMemoryPlan plan(int maxRows, int maxSeqs, int blockSize, int wantedSequences) {
        return plan(maxRows, maxSeqs, adapterLimits, blockSize, wantedSequences);
    }

    private GpuMemoryPlan plan(int maxRows, int maxSeqs, GpuMemoryPlan.Adapters a, int blockSize, int wantedSequences) {
        return GpuMemoryPlan.plan(atStart, model, new GpuMemoryPlan.StepLimits(maxRows, maxSeqs), a,
                GpuMemoryPlan.KvPolicy.automatic(blockSize, c.maxPositionEmbeddings(), wantedSequences, kvDtype));
    }

    /** The step scratch for plan {@code p}; the previous one, if any, is already closed. */
    private StepScratch newScratch(GpuMemoryPlan p) {
        long before = memory.bytes();
        StepScratch s = new StepScratch(memory, c, p.step().maxRows(), p.scratchWanted(), p.tableInts(), p.kv().dtype());
        scratchBytes = memory.bytes() - before;
        return s;
    }

    /**
     * Plans the device memory for these step limits (weights, step scratch, then KV blocks of {@code blockSize}
     * up to {@code maxSeqs} full contexts) and re-allocates the step scratch accordingly; fails with the plan's
     * arithmetic where one full context does not fit.
     */
    @Override
    public void reserveStep(int maxRows, int maxSeqs, int blockSize) {
        GpuMemoryPlan p = plan(maxRows, maxSeqs, blockSize, maxSeqs);
        invalidateGraphs();
        scratch.close();
        scratch = null;
        scratch = newScratch(p);
        if (adapters != null) adapters.resizeStep(maxRows);
        plan = p;
    }

    /**
     * Reserves {@code slots} LoRA adapter slots of rank up to {@code maxRank} on the device (fp32, every layer and
     * module: {@link GpuFootprint#adapterBytes}) and re-plans the memory with them, before the KV pool; fails with the
     * plan's arithmetic where they do not fit. Replaces any earlier reservation (its adapters are gone).
     */
    @Override
    public void reserveAdapters(int slots, int maxRank) {
        if (closed) throw new IllegalStateException("CudaRuntime is closed");
        if (slots < 0) throw new IllegalArgumentException("LoRA slots must be >= 0, got " + slots);
        if (slots > 0 && maxRank < 1) throw new IllegalArgumentException("LoRA max rank must be >= 1, got " + maxRank);
        GpuMemoryPlan.Adapters limits = slots == 0 ? GpuMemoryPlan.Adapters.NONE : new GpuMemoryPlan.Adapters(slots, maxRank);
        GpuMemoryPlan p = plan(plan.step().maxRows(), plan.step().maxSeqs(), limits, plan.kv().blockSize(),
                plan.kv().wantedSequences());
        invalidateGraphs();
        if (adapters != null) {
            adapters.close();
            adapters = null;
        }
        if (slots > 0) adapters = new CudaAdapters(memory, c, slots, maxRank, p.step().maxRows());
        adapterLimits = limits;
        plan = p;
    }

    /** Uploads {@code adapter} into {@code slot}, after checking every pair's shapes against the model and the rank. */
    @Override
    public void loadAdapter(int slot, LoraAdapter adapter) {
        if (closed) throw new IllegalStateException("CudaRuntime is closed");
        if (adapters == null) throw new IllegalArgumentException("LoRA slot " + slot + " is not reserved (no slots)");
        invalidateGraphs();
        adapters.load(slot, adapter);
    }

    @Override
    public void unloadAdapter(int slot) {
        if (closed) throw new IllegalStateException("CudaRuntime is closed");
        if (adapters == null) throw new IllegalArgumentException("LoRA slot " + slot + " is not reserved (no slots)");
        invalidateGraphs();
        adapters.unload(slot);
    }

    /**
     * The KV pool's element type: f16 for auto (half the bytes of f32 per cached token, so twice the tokens in the
     * same memory; kv_store_f16 rounds to nearest even) where the fp16 attention kernels take the model's shape
     * (even headDim, at most 16 query heads per kv head), else f32; f16 or f32 on request; bf16 is refused. Re-plans
     * the memory and re-allocates the step scratch (the fp16 kernels have buffers of their own); called before the
     * KV pool is made.
     */
    @Override
    public void useKvCacheDtype(KvCacheDtype requested) {
        if (closed) throw new IllegalStateException("CudaRuntime is closed");
        KvCacheDtype d = resolve(requested);
        if (d == kvDtype) return;
        KvCacheDtype before = kvDtype;
        kvDtype = d;
        try {
            GpuMemoryPlan p = plan(plan.step().maxRows(), plan.step().maxSeqs(), plan.kv().blockSize(),
                    plan.kv().wantedSequences());
            scratch.close();
            scratch = null;
            scratch = newScratch(p);
            plan = p;
        } catch (RuntimeException e) {
            kvDtype = before;
            throw e;
        }
    }

    private KvCacheDtype resolve(KvCacheDtype requested) {
        boolean f16Fits = c.headDim() % 2 == 0 && c.numHeads() % c.numKvHeads() == 0
                && c.numHeads() / c.numKvHeads() <= AttentionPlan.MAX_QUERIES;
        return switch (requested) {
            case AUTO -> f16Fits ? KvCacheDtype.F16 : KvCacheDtype.F32;
            case F32 -> KvCacheDtype.F32;
            case F16 -> {
                if (!f16Fits) {
                    throw new IllegalStateException("paddock.engine.kv-cache-dtype=f16 on CUDA needs an even head "
                            + "dimension and at most " + AttentionPlan.MAX_QUERIES + " query heads per kv head; this "
                            + "model has headDim " + c.headDim() + ", " + c.numHeads() + " heads and "
                            + c.numKvHeads() + " kv heads (use f32)");
                }
                yield KvCacheDtype.F16;
            }
            case BF16 -> throw new IllegalStateException("the cuda runtime keeps its KV cache in f16 or f32; "
                    + "paddock.engine.kv-cache-dtype=bf16 is not supported here (use auto, f16 or f32)");
        };
    }

    @Override public KvCacheDtype kvCacheDtype() { return kvDtype; }

    /** The memory plan in force: weights, step scratch and the KV budget {@link #defaultKvBudgetBytes()} reports. */
    public GpuMemoryPlan memoryPlan() {
        return plan;
    }

    @Override public LlamaConfig config() { return c; }

    @Override public String name() { return "cuda"; }

    /** The device's name as its driver reports it, e.g. "NVIDIA H100 80GB HBM3". */
    public String deviceName() { return device.name(); }

    /** Device bytes this runtime holds: weights, scratch and KV pools. */
    public long deviceBytes() { return memory.bytes(); }


    /** The KV bytes of the memory plan: what is left of the usable memory after weights and step scratch. */
    @Override
    public long defaultKvBudgetBytes() {
        return plan.kvBytes();
    }

    /** Free and total device memory now (for KV sizing after the weights are up, and for metrics). */
    public CudaDevices.MemInfo memInfo() {
        return device.memInfo();
    }

    @Override
    public long weightsBytes() {
        return weightsBytes;
    }

    /**
     * The driver's free/total (cuMemGetInfo) and what this runtime holds: weights, step scratch, and the rest of its
     * allocations, which are the KV pools. Device "0": {@link JCudaDevice} opens device 0.
     */
    @Override
    public Optional<DeviceMemoryReport> deviceMemory() {
        if (closed) return Optional.empty();
        CudaDevices.MemInfo m = device.memInfo();
        long held = memory.bytes();
        // LoRA slots count with the weights, their per-step buffers with the scratch: the rest is KV.
        long weights = weightsBytes + (adapters == null ? 0 : adapters.slotBytes());
        long scratch = scratchBytes + (adapters == null ? 0 : adapters.stepBytes());
        return Optional.of(new DeviceMemoryReport("0", m.totalBytes() - m.freeBytes(), m.totalBytes(), weights,
                held - weights - scratch, scratch));
    }

    @Override public long kvBytesPerToken() {
        return GpuFootprint.kvBytesPerToken(c, kvDtype);
    }

    @Override
    public CudaKvStore newKvStore(int numBlocks, int blockSize) {
        return new CudaKvStore(memory, c.numLayers(), numBlocks, blockSize, c.numKvHeads() * c.headDim(), kvDtype);
    }

    @Override
    public float[][] forward(KvStore store, List<StepChunk> chunks) {
        if (closed) throw new IllegalStateException("CudaRuntime is closed");
        if (!(store instanceof CudaKvStore kv) || !kv.isOpen()) throw new IllegalArgumentException("not an open CUDA KV store: " + store);
        StepPlan plan = StepPlan.of(chunks, kv.numBlocks(), kv.blockSize(), c.vocabSize(), c.maxPositionEmbeddings());
        float[][] result = new float[chunks.size()][];
        int rows = plan.rows();
        if (rows == 0) return result;
        StepScratch s = scratch;
        s.check(plan);
        memory.copyToDevice(s.tokens, plan.tokens(), rows);
        memory.copyToDevice(s.pos, plan.pos(), rows);
        memory.copyToDevice(s.tableOffset, plan.tableOffset(), rows);
        memory.copyToDevice(s.tables, plan.tables(), plan.tables().length);
        AttentionPlan attn = attentionPlan(kv, plan);
        int[] rowSlots = CudaAdapters.rowSlots(chunks, rows, adapters);
        boolean[] used = null;   // by slot: named by some chunk of this step
        if (rowSlots != null) {
            memory.copyToDevice(adapters.rowSlot, rowSlots, rows);
            used = new boolean[adapters.slots + 1];
            for (int slot : rowSlots) used[slot] = true;
        }
        if (graphs != null && !graphsPaused && CudaGraphs.decodeStep(chunks, rowSlots)) {
            graphs.run(rows, kv, () -> deviceWork(kv, plan, attn, null));
        } else {
            deviceWork(kv, plan, attn, used);
        }
        return logits(chunks, plan, result);
    }

    /**
     * The step's device work, from the embedding to the logits of the wanted rows in {@code scratch.logits}: launches
     * only, all from the uploaded row bookkeeping, so a decode step can be captured as a graph. A layer whose
     * projections are tiled runs q/k/v and gate/up as one launch each ({@link CudaWeights.Projections}), adds o and
     * down straight into the residual x and stages SwiGLU in the down projection; otherwise the residual add rides on
     * the next norm (add_rmsnorm_f32) and SwiGLU is its own launch.
     */
    private void deviceWork(CudaKvStore kv, StepPlan plan, AttentionPlan attn, boolean[] used) {
        StepScratch s = scratch;
        int rows = plan.rows();
        boolean allWanted = plan.wanted() == rows;   // every row a wanted last row: lastRows is 0..rows-1
        int h = c.hiddenSize(), ff = c.intermediateSize();
        float eps = (float) c.rmsNormEps();
        kernels.embedding(s.x, weights.embedding, s.tokens, rows, h, weights.embeddingDtype);
        boolean pending = false;   // the last projection left its output in xb, to be added to x by the next norm
        for (int layer = 0; layer < c.numLayers(); layer++) {
            CudaWeights.Layer lw = weights.layers.get(layer);
            // Attention block.
            norm(pending, s.xb, lw.attentionNorm(), rows, eps);
            project(lw.qkv(), s.xb, new long[] {s.q, s.k, s.v}, rows);
            if (used != null) {
                lora(used, layer, LoraModule.Q, s.xb, s.q, rows);
                lora(used, layer, LoraModule.K, s.xb, s.k, rows);
                lora(used, layer, LoraModule.V, s.xb, s.v, rows);
            }
            attention(kv, layer, attn, rows);
            pending = !residual(lw.o(), s.att, 0, rows);
            if (used != null) lora(used, layer, LoraModule.O, s.att, pending ? s.xb : s.x, rows);
            // Feed-forward block (SwiGLU).
            norm(pending, s.xb, lw.mlpNorm(), rows, eps);
            project(lw.gateUp(), s.xb, new long[] {s.gate, s.up}, rows);
            if (used != null) {
                lora(used, layer, LoraModule.GATE, s.xb, s.gate, rows);
                lora(used, layer, LoraModule.UP, s.xb, s.up, rows);
            }
            // LoRA on down reads SwiGLU's output, so with adapters it is computed on its own.
            boolean staged = lw.down() instanceof CudaWeights.GptqTiled && used == null;
            if (!staged) kernels.swiglu(s.gate, s.up, (long) rows * ff);
            pending = !residual(lw.down(), s.gate, staged ? s.up : 0, rows);
            if (used != null) lora(used, layer, LoraModule.DOWN, s.gate, pending ? s.xb : s.x, rows);
        }
        if (allWanted) {
            norm(pending, s.normed, weights.finalNorm, rows, eps);
            matmul(weights.lmHead, s.normed, s.logits, rows);
            return;
        }
        if (pending) kernels.add(s.x, s.xb, (long) rows * h);
        if (plan.wanted() == 0) return;
        // Only the wanted last rows go through the final norm and the (large) output layer.
        long rowBytes = (long) h * Float.BYTES;
        int k = 0;
        for (int row : plan.lastRows()) {
            kernels.rmsnorm(s.normed + k * rowBytes, s.x + row * rowBytes, weights.finalNorm, 1, h, eps);
            k++;
        }
        matmul(weights.lmHead, s.normed, s.logits, plan.wanted());
    }

    /** out = rmsnorm(x)·weight, after x += xb where the last projection left its output there. */
    private void norm(boolean pending, long out, long weight, int rows, float eps) {
        StepScratch s = scratch;
        if (pending) {
            kernels.addRmsnorm(s.x, s.xb, out, weight, rows, c.hiddenSize(), eps);
        } else {
            kernels.rmsnorm(out, s.x, weight, rows, c.hiddenSize(), eps);
        }
    }

    /** The projections of one input into {@code ys} (one buffer per part): one launch where they were fused. */
    private void project(CudaWeights.Projections p, long x, long[] ys, int rows) {
        if (p.fused() != null) {
            int[] n = p.outs();
            GptqOut out = new GptqOut(ys[0], ys[1], ys.length > 2 ? ys[2] : 0, n[0], n[1], false);
            kernels.gptqTiled(p.fused().g(), x, 0, scratch.xp, out, scratch.split, rows);
            return;
        }
        for (int i = 0; i < ys.length; i++) matmul(p.parts().get(i), x, ys[i], rows);
    }

    /**
     * The residual branch's last projection: added straight into x for a tiled layer (true), else written to xb for
     * the next norm to add (false). {@code xUp}: the up projection's output, for a SwiGLU staged on a tiled layer.
     */
    private boolean residual(CudaWeights.DeviceLinear lin, long x, long xUp, int rows) {
        StepScratch s = scratch;
        if (lin instanceof CudaWeights.GptqTiled g) {
            kernels.gptqTiled(g.g(), x, xUp, s.xp, GptqOut.addTo(s.x, g.out()), s.split, rows);
            return true;
        }
        matmul(lin, x, s.xb, rows);
        return false;
    }

    /** Copies the wanted rows' logits to the host, by chunk (null for a chunk that wants none). */
    private float[][] logits(List<StepChunk> chunks, StepPlan plan, float[][] result) {
        if (plan.wanted() == 0) {
            device.synchronize();
            return result;
        }
        int wanted = plan.wanted(), vocab = c.vocabSize(), k;
        StepScratch s = scratch;
        float[] logits = new float[wanted * vocab];
        memory.copyToHost(s.logits, logits, logits.length);
        k = 0;
        for (int i = 0; i < chunks.size(); i++) {
            if (chunks.get(i).wantLogits() && chunks.get(i).tokens().length > 0) {
                result[i] = Arrays.copyOfRange(logits, k * vocab, (k + 1) * vocab);
                k++;
            }
        }
        return result;
    }

    /**
     * For an fp16 pool: splits the step's rows between the decode and the prefill kernel and uploads the row list
     * and the tile list; null for an fp32 pool.
     */
    private AttentionPlan attentionPlan(CudaKvStore kv, StepPlan plan) {
        if (kv.dtype() != KvCacheDtype.F16) return null;
        if (scratch.tiles == 0) throw new IllegalStateException("an f16 KV store needs the f16 step scratch: "
                + "make the store after useKvCacheDtype");
        AttentionPlan a = AttentionPlan.of(plan, c.numHeads() / c.numKvHeads());
        if (a.decodeCount() > scratch.wanted) {
            throw new IllegalStateException("step of " + a.decodeCount() + " single-row chunks exceeds the reserved "
                    + scratch.wanted + " sequences");
        }
        if (a.decodeCount() > 0) memory.copyToDevice(scratch.decodeRows, a.decodeRows(), a.decodeCount());
        if (a.tileCount() > 0) memory.copyToDevice(scratch.tiles, a.tiles(), a.tiles().length);
        return a;
    }

    /**
     * RoPE on the step's q and k rows and their k and v rows into the layer's pool (one launch with the fp16 pool),
     * then attention of every row's q into att.
     */
    private void attention(CudaKvStore kv, int layer, AttentionPlan a, int rows) {
        StepScratch s = scratch;
        int heads = c.numHeads(), kvHeads = c.numKvHeads(), hd = c.headDim(), kvDim = kvHeads * hd;
        long kp = kv.keys(layer), vp = kv.values(layer);
        if (a == null) {
            kernels.rope(s.q, s.pos, rows, heads, heads * hd, hd, weights.ropeCos, weights.ropeSin, c.ropeTheta());
            kernels.rope(s.k, s.pos, rows, kvHeads, kvDim, hd, weights.ropeCos, weights.ropeSin, c.ropeTheta());
            kernels.kvStore(kp, vp, s.k, s.v, s.tables, s.tableOffset, s.pos, rows, kvDim, kv.blockSize());
            kernels.attention(s.att, s.q, kp, vp, s.tables, s.tableOffset, s.pos, rows, heads, kvHeads, hd,
                    kv.blockSize());
            return;
        }
        kernels.ropeKvStoreF16(s.q, s.k, s.v, kp, vp, s.tables, s.tableOffset, s.pos, rows, heads, kvHeads, hd,
                kv.blockSize(), weights.ropeCos, weights.ropeSin, c.ropeTheta());
        if (a.decodeCount() > 0) {
            int ctx = c.maxPositionEmbeddings();
            kernels.attentionDecodeF16(s.att, s.partO, s.partML, s.partCounters, s.q, kp, vp, s.tables, s.tableOffset, s.pos,
                    s.decodeRows, a.decodeCount(), heads, kvHeads, hd, kv.blockSize(),
                    GpuFootprint.attentionPartition(ctx), GpuFootprint.attentionSplits(ctx));
        }
        if (a.tileCount() > 0) {
            kernels.attentionPrefillF16(s.att, s.q, kp, vp, s.tables, s.tableOffset, s.pos, s.tiles, a.tileCount(),
                    heads, kvHeads, hd, kv.blockSize());
        }
    }

    /**
     * {@code y[row] += scale · B·(A·x[row])} for the rows of every slot this step names, on one module of one layer;
     * no launch where none of those slots adapts it.
     */
    private void lora(boolean[] used, int layer, LoraModule m, long x, long y, int rows) {
        CudaAdapters a = adapters;
        if (!a.adapts(used, layer, m)) return;
        kernels.loraShrink(x, a.a(layer, m), a.rowSlot, a.ranks(layer, m), a.shrunk, rows, a.in(m), a.maxRank);
        kernels.loraExpand(a.shrunk, a.bt(layer, m), a.rowSlot, a.ranks(layer, m), a.scales(layer, m), y, rows,
                a.out(m), a.maxRank);
    }

    private void matmul(CudaWeights.DeviceLinear lin, long x, long y, int rows) {
        switch (lin) {
            case CudaWeights.Dense d -> kernels.dense(x, d.w(), y, rows, d.in(), d.out(), d.dtype());
            case CudaWeights.Gptq g -> kernels.gptq(g.g(), x, scratch.xp, y, rows);
            case CudaWeights.GptqTiled g ->   // xp: the GEMM's fp16 x
                    kernels.gptqTiled(g.g(), x, 0, scratch.xp, GptqOut.to(y, g.out()), scratch.split, rows);
        }
    }

    /** Drops every cached decode graph: what they captured (scratch, adapters) is about to change. */
    private void invalidateGraphs() {
        if (graphs != null) graphs.invalidate();
    }

    /**
     * Pauses ({@code false}) or resumes the decode-step graphs of a runtime made with graphs on: paused, every step
     * runs launch by launch and the cached graphs stay (the benchmark times both ways on one loaded model).
     */
    void useGraphs(boolean on) {
        graphsPaused = !on;
    }

    /** The decode-step graphs; null with graphs off. */
    CudaGraphs graphs() {
        return graphs;
    }

    /** Kernel launches issued through the launchers (a replayed graph issues none). */
    long kernelLaunches() {
        return kernels.launches();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            if (graphs != null) graphs.close();
            kernels.close();
            memory.close();
        } finally {
            device.close();
        }
    }
}
