package io.paddock.runtime.cpu;

import io.paddock.model.DenseLinear;
import io.paddock.model.GptqLinear;
import io.paddock.model.LayerWeights;
import io.paddock.model.Linear;
import io.paddock.model.LlamaConfig;
import io.paddock.model.LlamaWeights;
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

    public CpuLlama(LlamaWeights weights, Parallel parallel) {
        this.c = weights.config();
        this.w = weights;
        this.parallel = parallel;
        this.rope = RopeTable.create(c.headDim(), c.maxPositionEmbeddings(), c.ropeTheta());
        this.ws = new Workspace(0);
        // GPTQ layers are repacked into the fused kernel's layout once, at load time, spread over the threads.
        List<GptqLinear> todo = new ArrayList<>();
        for (LayerWeights l : weights.layers()) {
            for (Linear lin : List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down())) {
                if (lin instanceof GptqLinear g) todo.add(g);
            }
        }
        if (weights.lmHead() instanceof GptqLinear g) todo.add(g);
        GptqMatrix[] prepared = new GptqMatrix[todo.size()];
        try {
            parallel.forRange(todo.size(), 1, (from, to) -> {
                for (int i = from; i < to; i++) prepared[i] = GptqMatrix.prepare(todo.get(i));
            });
        } catch (RuntimeException e) {
            for (GptqMatrix m : prepared) if (m != null) m.close();
            throw e;
        }
        for (int i = 0; i < prepared.length; i++) gptq.put(todo.get(i), prepared[i]);
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
        return PagedKvStore.bytesPerToken(c.numLayers(), c.numKvHeads() * c.headDim());
    }

    /** A KV store of {@code numBlocks} blocks of {@code blockSize} tokens for this model. */
    @Override
    public long defaultKvBudgetBytes() {
        return Runtime.getRuntime().maxMemory() / 4;
    }

    /** Fails with a message saying what to set, rather than an OutOfMemoryError, when the pool cannot fit the heap. */
    @Override
    public PagedKvStore newKvStore(int numBlocks, int blockSize) {
        long bytes = (long) numBlocks * blockSize * kvBytesPerToken();
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > available * 9 / 10) {
            throw new IllegalStateException("the KV-cache pool (" + numBlocks + " blocks, " + (bytes >> 20)
                    + " MB) does not fit the Java heap (" + (available >> 20) + " MB free of " + (rt.maxMemory() >> 20)
                    + " MB): give the JVM more heap (PADDOCK_JAVA_OPTS=-Xmx...) or set paddock.engine.kv-cache-memory");
        }
        return new PagedKvStore(c.numLayers(), numBlocks, blockSize, c.numKvHeads() * c.headDim());
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

        // Row bookkeeping: which cache and position each row belongs to.
        int[][] rowTable = new int[rows][];
        int[] rowPos = new int[rows];
        int r = 0;
        for (StepChunk ch : chunks) {
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
                w.embedding().copyRow(token, ws.x, r * h);
            }
        }

        for (int layer = 0; layer < c.numLayers(); layer++) {
            LayerWeights lw = w.layers().get(layer);
            // Attention block.
            for (int i = 0; i < rows; i++) Kernels.rmsnorm(ws.xb, i * h, ws.x, i * h, lw.attentionNorm(), h, c.rmsNormEps());
            matmul(lw.q(), ws.xb, ws.q, rows);
            matmul(lw.k(), ws.xb, ws.k, rows);
            matmul(lw.v(), ws.xb, ws.v, rows);
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
            Kernels.addInPlace(ws.x, 0, ws.xb, 0, rows * h);
            // Feed-forward block (SwiGLU).
            for (int i = 0; i < rows; i++) Kernels.rmsnorm(ws.xb, i * h, ws.x, i * h, lw.mlpNorm(), h, c.rmsNormEps());
            matmul(lw.gate(), ws.xb, ws.gate, rows);
            matmul(lw.up(), ws.xb, ws.up, rows);
            Kernels.swiglu(ws.gate, 0, ws.up, 0, rows * ff);
            matmul(lw.down(), ws.gate, ws.xb, rows);
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
        gptq.values().forEach(GptqMatrix::close);
        gptq.clear();
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
