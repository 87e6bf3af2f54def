package io.paddock.runtime.cuda;

import io.paddock.model.LlamaConfig;
import io.paddock.runtime.KvCacheDtype;

/**
 * Per-step device buffers for steps of up to {@code rows} rows, {@code wanted} logits rows and {@code tableInts}
 * block-table entries, allocated once (before the KV pool takes the free memory) and reused by every step, so
 * serving never allocates. Mirrors CpuLlama's Workspace plus the row bookkeeping the kernels read;
 * the buffer widths come from {@link GpuFootprint}, whose {@code scratchBytes} plans with them (a test holds the
 * allocation equal to the plan).
 */
final class StepScratch implements AutoCloseable {
    private final DeviceMemory mem;
    final int rows, wanted, tableInts;

    final long x, xb, q, k, v, att, gate, up, xp;   // fp32 (rows, hidden|max(hidden,qDim)|qDim|kvDim|kvDim|qDim|ff|ff|maxIn)
    final long tokens, pos, tableOffset;           // int32 (rows)
    final long tables;                             // int32 (tableInts): every chunk's block table back to back
    final long normed, logits;                     // fp32 (wanted, hidden), (wanted, vocab)
    // fp16 KV only (0 with fp32 KV), GpuFootprint.attentionScratchBytes: the prefill tile list int32 (rows, 2), the
    // decode rows int32 (wanted), partial outputs fp32 (wanted, heads, splits, headDim), their (max, sum) fp32
    // (wanted, heads, splits, 2), the partition counters int32 (wanted, kvHeads), zeroed once
    final long tiles, decodeRows, partO, partML, partCounters;
    /** Split-K partials and counters (GpuFootprint.splitPartialFloats, SPLIT_COUNTERS), the counters zeroed once. */
    final SplitWorkspace split;

    /** With the buffers of an fp32 KV pool. */
    StepScratch(DeviceMemory mem, LlamaConfig c, int rows, int wanted, int tableInts) {
        this(mem, c, rows, wanted, tableInts, KvCacheDtype.F32);
    }

    StepScratch(DeviceMemory mem, LlamaConfig c, int rows, int wanted, int tableInts, KvCacheDtype kvDtype) {
        if (rows < 1 || wanted < 1 || tableInts < 1) throw new IllegalArgumentException("step limits must be >= 1");
        this.mem = mem;
        this.rows = rows;
        this.wanted = wanted;
        this.tableInts = tableInts;
        long[] w = GpuFootprint.rowWidths(c);
        long[] p = new long[w.length + 10];
        int n = 0;
        try {
            for (; n < w.length; n++) p[n] = mem.alloc(w[n] * rows * 4); // floats and ints are 4 bytes
            p[n++] = mem.alloc((long) tableInts * Integer.BYTES);
            // the two buffers of GpuFootprint.wantedWords
            p[n++] = mem.alloc((long) wanted * c.hiddenSize() * Float.BYTES);
            p[n++] = mem.alloc((long) wanted * c.vocabSize() * Float.BYTES);
            p[n++] = mem.alloc(4L * GpuFootprint.splitPartialFloats(c, rows));
            p[n++] = mem.alloc(4L * GpuFootprint.SPLIT_COUNTERS);
            mem.device().memsetD32(p[n - 1], 0, GpuFootprint.SPLIT_COUNTERS);
            if (kvDtype != KvCacheDtype.F32) {
                long parts = (long) wanted * c.numHeads() * GpuFootprint.attentionSplits(c.maxPositionEmbeddings());
                p[n++] = mem.alloc(2L * rows * Integer.BYTES);
                p[n++] = mem.alloc((long) wanted * Integer.BYTES);
                p[n++] = mem.alloc(parts * c.headDim() * Float.BYTES);
                p[n++] = mem.alloc(parts * 2 * Float.BYTES);
                p[n++] = mem.alloc((long) wanted * c.numKvHeads() * Integer.BYTES);
                mem.device().memsetD32(p[n - 1], 0, (long) wanted * c.numKvHeads());
            }
        } catch (RuntimeException | Error e) {
            for (int i = 0; i < n; i++) mem.free(p[i]);
            throw e;
        }
        x = p[0]; xb = p[1]; q = p[2]; k = p[3]; v = p[4]; att = p[5]; gate = p[6]; up = p[7]; xp = p[8];
        tokens = p[9]; pos = p[10]; tableOffset = p[11]; tables = p[12]; normed = p[13]; logits = p[14];
        split = new SplitWorkspace(p[15], GpuFootprint.splitPartialFloats(c, rows), p[16], GpuFootprint.SPLIT_COUNTERS);
        tiles = p[17]; decodeRows = p[18]; partO = p[19]; partML = p[20]; partCounters = p[21];
    }

    /** Fails (a host bug: the engine must respect the limits it reserved) where a step does not fit. */
    void check(StepPlan plan) {
        if (plan.rows() > rows || plan.wanted() > wanted || plan.tables().length > tableInts) {
            throw new IllegalStateException("step of " + plan.rows() + " rows / " + plan.wanted() + " logits rows / "
                    + plan.tables().length + " block-table entries exceeds the reserved scratch (" + rows + " / "
                    + wanted + " / " + tableInts + ")");
        }
    }

    @Override
    public void close() {
        for (long p : new long[] {x, xb, q, k, v, att, gate, up, xp, tokens, pos, tableOffset, tables, normed, logits,
                split.partials(), split.counters()}) {
            mem.free(p);
        }
        if (tiles != 0) {
            for (long p : new long[] {tiles, decodeRows, partO, partML, partCounters}) mem.free(p);
        }
    }
}
