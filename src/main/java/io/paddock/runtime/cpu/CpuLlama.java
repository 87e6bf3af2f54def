package io.paddock.runtime.cpu;

import io.paddock.lora.LoraAdapter;
import io.paddock.lora.LoraModule;
import io.paddock.lora.LoraPair;
import io.paddock.model.DenseLinear;
import io.paddock.model.GptqLinear;
import io.paddock.model.LayerWeights;
import io.paddock.model.Linear;
import io.paddock.model.LlamaConfig;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.KvStore;
import io.paddock.runtime.ModelRuntime;
import io.paddock.runtime.RopeTable;
import io.paddock.runtime.StepChunk;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The LLaMA forward pass on the CPU over a batch of rows. A row is one token of one sequence at one position;
 * prefill (many rows of one sequence), decode (one row per sequence) and mixes of both are the same call.
 * Every linear layer multiplies all rows of the step at once, so each weight is read once per step.
 * Not thread-safe: one engine thread owns an instance; the work inside a step is spread over {@link Parallel}.
 */
public final class CpuLlama implements ModelRuntime {


    private final LlamaConfig c;
    private final LlamaWeights w;
    private final Parallel parallel;
    private final RopeTable rope;
    private Workspace ws;
    private final Map<Linear, GptqMatrix> gptq = new IdentityHashMap<>(); // prepared once
    private boolean closed;
    private final PreparedCache.Prepared prepared; // owns the GPTQ tiles (a mapped file, or one arena per layer)
    /** LoRA slots: {@code slots[slot][layer][module]}, slot 0 (the bare base) always null. */
    private LoraWeights[][][] slots = new LoraWeights[1][][];
    private int maxRank;
    private KvCacheDtype kvDtype = KvCacheDtype.F16;

    /** Prepares the GPTQ layers in memory (no prepared-weights cache). */
    public CpuLlama(LlamaWeights weights, Parallel parallel) {
        this(weights, parallel, PreparedCache.OFF);
    }

    /** Prepares the GPTQ layers through {@code cache}: mapped from its file, or written to it on the first load. */
    public CpuLlama(LlamaWeights weights, Parallel parallel, PreparedCache cache) {
        this.c = weights.config();
        this.w = weights;
        this.parallel = parallel;
        this.rope = RopeTable.create(c.headDim(), c.maxPositionEmbeddings(), c.ropeTheta());
        this.ws = new Workspace(0);
        // GPTQ layers are repacked into the fused kernel's layout once, at load time (or mapped, already repacked).
        List<GptqLinear> todo = new ArrayList<>();
        for (LayerWeights l : weights.layers()) {
            for (Linear lin : List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down())) {
                if (lin instanceof GptqLinear g) todo.add(g);
            }
        }
        if (weights.lmHead() instanceof GptqLinear g) todo.add(g);
        this.prepared = cache.prepare(todo, parallel);
        for (int i = 0; i < todo.size(); i++) gptq.put(todo.get(i), prepared.matrices()[i]);
    }

    @Override public LlamaConfig config() { return c; }

    @Override public String name() { return "cpu"; }

    /** The weights as loaded (mostly memory-mapped from the checkpoint); a tied lm_head counts once. */
    @Override
    public long weightsBytes() {
        long total = w.embedding().data().byteSize() + (long) w.finalNorm().length * Float.BYTES;
        for (LayerWeights l : w.layers()) {
            total += (long) (l.attentionNorm().length + l.mlpNorm().length) * Float.BYTES;
            for (Linear lin : List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down())) {
                total += lin.weightBytes();
            }
        }
        boolean tied = w.lmHead() instanceof DenseLinear d && d.weight() == w.embedding();
        return tied ? total : total + w.lmHead().weightBytes();
    }

    @Override public long kvBytesPerToken() {
        return PagedKvStore.bytesPerToken(c.numLayers(), c.numKvHeads() * c.headDim(), kvDtype);
    }

    /** f16 unless told otherwise (auto = f16); f32 and bf16 on request. */
    @Override
    public void useKvCacheDtype(KvCacheDtype requested) {
        kvDtype = requested == KvCacheDtype.AUTO ? KvCacheDtype.F16 : requested;
    }

    @Override public KvCacheDtype kvCacheDtype() { return kvDtype; }

    /**
     * Half of the physical memory still available (MemAvailable, or a container's limit) after the weights and after
     * the room the Java heap may still grow into: the pool is off-heap, so the heap size no longer bounds it.
     */
    @Override
    public long defaultKvBudgetBytes() {
        Runtime rt = Runtime.getRuntime();
        long spare = HostMemory.availableBytes() - weightsBytes() - (rt.maxMemory() - rt.totalMemory());
        return Math.max(0, spare) / 2;
    }

    /**
     * Allocates the pool off-heap. Fails with the arithmetic and what to set, rather than an OutOfMemoryError or a
     * machine driven into swap, when the pool is larger than the memory available.
     */
    @Override
    public PagedKvStore newKvStore(int numBlocks, int blockSize) {
        long perToken = kvBytesPerToken();
        long bytes = (long) numBlocks * blockSize * perToken;
        long available = HostMemory.availableBytes();
        if (bytes > available) {
            throw new IllegalStateException("the KV-cache pool (" + numBlocks + " blocks x " + blockSize + " tokens x "
                    + perToken + " bytes/token in " + kvDtype.label() + " = " + (bytes >> 20) + " MiB) does not fit the "
                    + (available >> 20) + " MiB of memory available: set paddock.engine.kv-cache-memory below that"
                    + (kvDtype == KvCacheDtype.F32 ? " or paddock.engine.kv-cache-dtype=f16 (half the bytes)" : ""));
        }
        return new PagedKvStore(c.numLayers(), numBlocks, blockSize, c.numKvHeads() * c.headDim(), kvDtype);
    }

    /** Runs one step; returns, per chunk, the logits (vocab) of its last row, or null where not wanted. */
    @Override
    public float[][] forward(KvStore store, List<StepChunk> chunks) {
        if (!(store instanceof PagedKvStore kv)) throw new IllegalArgumentException("not a CPU KV store: " + store);
        int rows = 0;
        for (StepChunk ch : chunks) rows += ch.tokens().length;
        if (rows == 0) return new float[chunks.size()][];
        if (ws.rows < rows) ws = new Workspace(rows);
        int h = c.hiddenSize(), qDim = c.numHeads() * c.headDim(), kvDim = c.numKvHeads() * c.headDim();
        int ff = c.intermediateSize();

        // Row bookkeeping: which cache and position each row belongs to, and which adapter slot applies to it.
        int[][] rowTable = new int[rows][];
        int[] rowPos = new int[rows];
        int[] rowSlot = new int[rows];
        boolean anyAdapter = false;
        int r = 0;
        for (StepChunk ch : chunks) {
            int slot = ch.adapterSlot();
            if (slot != StepChunk.NO_ADAPTER) {
                if (slot >= slots.length || slots[slot] == null) {
                    throw new IllegalArgumentException("adapter slot " + slot + " holds no adapter");
                }
                anyAdapter = true;
            }
            for (int t = 0; t < ch.tokens().length; t++, r++) {
                int token = ch.tokens()[t];
                if (token < 0 || token >= c.vocabSize()) {
                    throw new IllegalArgumentException("token id " + token + " outside the vocabulary");
                }
                int pos = ch.startPos() + t;
                if (pos >= ch.blockTable().length * kv.blockSize() || pos >= c.maxPositionEmbeddings()) {
                    throw new IllegalArgumentException("position " + pos + " has no KV block or exceeds the context");
                }
                rowTable[r] = ch.blockTable();
                rowPos[r] = ch.startPos() + t;
                rowSlot[r] = slot;
                w.embedding().copyRow(token, ws.x, r * h);
            }
        }

        Lora lora = anyAdapter ? new Lora(rowSlot) : null;
        for (int layer = 0; layer < c.numLayers(); layer++) {
            LayerWeights lw = w.layers().get(layer);
            // Attention block.
            for (int i = 0; i < rows; i++) Kernels.rmsnorm(ws.xb, i * h, ws.x, i * h, lw.attentionNorm(), h, c.rmsNormEps());
            matmul(lw.q(), ws.xb, ws.q, rows);
            matmul(lw.k(), ws.xb, ws.k, rows);
            matmul(lw.v(), ws.xb, ws.v, rows);
            if (lora != null) {
                lora.apply(layer, LoraModule.Q, ws.xb, ws.q);
                lora.apply(layer, LoraModule.K, ws.xb, ws.k);
                lora.apply(layer, LoraModule.V, ws.xb, ws.v);
            }
            for (int i = 0; i < rows; i++) {
                Kernels.ropeRotateHalf(ws.q, i * qDim, c.numHeads(), c.headDim(), rowPos[i], rope);
                Kernels.ropeRotateHalf(ws.k, i * kvDim, c.numKvHeads(), c.headDim(), rowPos[i], rope);
                kv.store(layer, rowTable[i], rowPos[i], ws.k, i * kvDim, ws.v, i * kvDim);
            }
            final int l = layer;
            // Hot loop: every (row, head) pair attends over its own sequence's cached positions [0, pos].
            int heads = c.numHeads();
            parallel.forRange(rows * heads, 1, (start, end) -> {
                float[] scratch = new float[maxPos(rowPos, start / heads, (end - 1) / heads) + 1];
                for (int idx = start; idx < end; ) {
                    int row = idx / heads, h0 = idx % heads, h1 = Math.min(heads, h0 + (end - idx));
                    PagedAttention.attention(ws.att, row * qDim, ws.q, row * qDim, kv, l, rowTable[row],
                            rowPos[row] + 1, heads, c.numKvHeads(), c.headDim(), h0, h1, scratch);
                    idx += h1 - h0;
                }
            });
            matmul(lw.o(), ws.att, ws.xb, rows);
            if (lora != null) lora.apply(layer, LoraModule.O, ws.att, ws.xb);
            Kernels.addInPlace(ws.x, 0, ws.xb, 0, rows * h);
            // Feed-forward block (SwiGLU).
            for (int i = 0; i < rows; i++) Kernels.rmsnorm(ws.xb, i * h, ws.x, i * h, lw.mlpNorm(), h, c.rmsNormEps());
            matmul(lw.gate(), ws.xb, ws.gate, rows);
            matmul(lw.up(), ws.xb, ws.up, rows);
            if (lora != null) {
                lora.apply(layer, LoraModule.GATE, ws.xb, ws.gate);
                lora.apply(layer, LoraModule.UP, ws.xb, ws.up);
            }
            Kernels.swiglu(ws.gate, 0, ws.up, 0, rows * ff);
            matmul(lw.down(), ws.gate, ws.xb, rows);
            if (lora != null) lora.apply(layer, LoraModule.DOWN, ws.gate, ws.xb);
            Kernels.addInPlace(ws.x, 0, ws.xb, 0, rows * h);
        }

        // Only the rows whose logits are wanted go through the final norm and the (large) output layer.
        int wanted = 0;
        for (StepChunk ch : chunks) if (ch.wantLogits()) wanted++;
        float[][] result = new float[chunks.size()][];
        if (wanted == 0) return result;
        float[] normed = new float[wanted * h];
        int row = 0, k = 0;
        for (StepChunk ch : chunks) {
            row += ch.tokens().length;
            if (ch.wantLogits()) Kernels.rmsnorm(normed, (k++) * h, ws.x, (row - 1) * h, w.finalNorm(), h, c.rmsNormEps());
        }
        float[] logits = new float[wanted * c.vocabSize()];
        matmul(w.lmHead(), normed, logits, wanted);
        k = 0;
        for (int i = 0; i < chunks.size(); i++) {
            if (chunks.get(i).wantLogits()) {
                result[i] = Arrays.copyOfRange(logits, k * c.vocabSize(), (k + 1) * c.vocabSize());
                k++;
            }
        }
        return result;
    }

    /** Adapter slots; see {@link ModelRuntime#reserveAdapters}. */
    @Override
    public void reserveAdapters(int count, int maxRank) {
        if (count < 0 || maxRank < 0 || (count > 0 && maxRank < 1)) {
            throw new IllegalArgumentException("adapter slots need count >= 0 and rank >= 1, got " + count + ", " + maxRank);
        }
        this.slots = new LoraWeights[count + 1][][];
        this.maxRank = maxRank;
    }

    @Override
    public void loadAdapter(int slot, LoraAdapter adapter) {
        checkSlot(slot);
        if (adapter.numLayers() != c.numLayers()) {
            throw new IllegalArgumentException("adapter '" + adapter.name() + "' has " + adapter.numLayers()
                    + " layers; the model has " + c.numLayers());
        }
        if (adapter.maxRank() > maxRank) {
            throw new IllegalArgumentException("adapter '" + adapter.name() + "' has rank " + adapter.maxRank()
                    + "; the runtime's adapter slots hold rank " + maxRank + " at most (paddock.lora.max-rank)");
        }
        LoraWeights[][] byLayer = new LoraWeights[c.numLayers()][LoraModule.values().length];
        for (int l = 0; l < c.numLayers(); l++) {
            LayerWeights lw = w.layers().get(l);
            for (LoraModule m : LoraModule.values()) {
                LoraPair p = adapter.pair(l, m);
                if (p == null) continue;
                Linear base = m.of(lw);
                if (p.in() != base.inFeatures() || p.out() != base.outFeatures()) {
                    throw new IllegalArgumentException("adapter '" + adapter.name() + "' layer " + l + " "
                            + m.peftName() + ": lora_A [" + p.rank() + ", " + p.in() + "], lora_B [" + p.out() + ", "
                            + p.rank() + "] do not fit the base weight [" + base.outFeatures() + ", "
                            + base.inFeatures() + "]");
                }
                byLayer[l][m.ordinal()] = LoraWeights.of(p);
            }
        }
        slots[slot] = byLayer;
    }

    @Override
    public void unloadAdapter(int slot) {
        checkSlot(slot);
        slots[slot] = null;
    }

    private void checkSlot(int slot) {
        if (slot < 1 || slot >= slots.length) {
            throw new IllegalArgumentException("adapter slot " + slot + " is not one of the " + (slots.length - 1)
                    + " reserved");
        }
    }

    /** One step's LoRA work: the adapted rows of each layer and module, grouped by adapter slot. */
    private final class Lora {
        private final int[] rowSlot;
        private final int[] rows;
        private final int[] groupStart;
        private final LoraWeights[] weights;
        private final float[] t;

        Lora(int[] rowSlot) {
            this.rowSlot = rowSlot;
            this.rows = new int[rowSlot.length];
            this.groupStart = new int[slots.length + 1];
            this.weights = new LoraWeights[slots.length];
            this.t = new float[rowSlot.length * maxRank];
        }

        void apply(int layer, LoraModule m, float[] x, float[] y) {
            int n = 0, groups = 0;
            for (int slot = 1; slot < slots.length; slot++) {
                LoraWeights lw = slots[slot] == null ? null : slots[slot][layer][m.ordinal()];
                if (lw == null) continue;
                int start = n;
                for (int i = 0; i < rowSlot.length; i++) if (rowSlot[i] == slot) rows[n++] = i;
                if (n == start) continue;
                groupStart[groups] = start;
                weights[groups++] = lw;
            }
            if (groups == 0) return;
            groupStart[groups] = n;
            LoraKernels.apply(parallel, rows, groupStart, weights, groups, x, weights[0].in(), y, weights[0].out(), t,
                    maxRank);
        }
    }

    private static int maxPos(int[] rowPos, int from, int to) {
        int m = 0;
        for (int i = from; i <= to; i++) m = Math.max(m, rowPos[i]);
        return m;
    }

    private void matmul(Linear linear, float[] x, float[] y, int rows) {
        switch (linear) {
            case DenseLinear d -> MatMul.matmul(parallel, denseMatrix(d), x, 0, y, 0, rows);
            case GptqLinear g -> GptqMatMul.matmul(parallel, gptq.get(g), x, 0, y, 0, rows);
        }
    }

    private static DenseMatrix denseMatrix(DenseLinear d) {
        return new DenseMatrix(d.weight().data(), d.weight().dtype(), d.outFeatures(), d.inFeatures());
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        gptq.clear();
        prepared.close();
    }

    /** Activation buffers for up to {@code rows} rows, reused across steps. */
    private final class Workspace {
        final int rows;
        final float[] x, xb, q, k, v, att, gate, up; // (rows, hidden|qDim|kvDim|intermediate)

        Workspace(int rows) {
            this.rows = rows;
            int h = c.hiddenSize(), qDim = c.numHeads() * c.headDim(), kvDim = c.numKvHeads() * c.headDim();
            x = new float[rows * h];
            xb = new float[rows * Math.max(h, qDim)];
            q = new float[rows * qDim];
            k = new float[rows * kvDim];
            v = new float[rows * kvDim];
            att = new float[rows * qDim];
            gate = new float[rows * c.intermediateSize()];
            up = new float[rows * c.intermediateSize()];
        }
    }
}
