package io.paddock.runtime.cuda;

import io.paddock.model.LlamaConfig;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;

/**
 * Per-step device buffers, grown (never shrunk) to the largest step seen so far and reused across steps.
 * Mirrors CpuLlama's Workspace plus the row bookkeeping the kernels read.
 */
final class StepScratch {
    private final DeviceMemory mem;
    private final LlamaConfig c;
    private int rows, wanted, tableInts;

    CUdeviceptr x, xb, q, k, v, att, gate, up, xp;   // (rows, hidden|max(hidden,qDim)|qDim|kvDim|kvDim|qDim|ff|ff|maxIn)
    CUdeviceptr tokens, pos, tableOffset;           // int32 (rows)
    CUdeviceptr tables;                             // int32 (tableInts): every chunk's block table back to back
    CUdeviceptr normed, logits;                     // (wanted, hidden), (wanted, vocab)

    StepScratch(DeviceMemory mem, LlamaConfig c) {
        this.mem = mem;
        this.c = c;
    }

    void ensure(int needRows, int needWanted, int needTableInts) {
        if (needRows > rows) growRows(Math.max(needRows, rows * 2));
        if (needWanted > wanted) growWanted(Math.max(needWanted, wanted * 2));
        if (needTableInts > tableInts) {
            int n = Math.max(needTableInts, tableInts * 2);
            mem.free(tables, (long) tableInts * Sizeof.INT);
            tables = mem.alloc((long) n * Sizeof.INT);
            tableInts = n;
        }
    }

    private long[] rowWidths() {
        int h = c.hiddenSize(), qDim = c.numHeads() * c.headDim(), kvDim = c.numKvHeads() * c.headDim();
        int ff = c.intermediateSize();
        int maxIn = Math.max(Math.max(h, qDim), ff);
        return new long[] {h, Math.max(h, qDim), qDim, kvDim, kvDim, qDim, ff, ff, maxIn, 1, 1, 1};
    }

    private CUdeviceptr[] rowBuffers() {
        return new CUdeviceptr[] {x, xb, q, k, v, att, gate, up, xp, tokens, pos, tableOffset};
    }

    private void growRows(int n) {
        long[] widths = rowWidths();
        CUdeviceptr[] old = rowBuffers();
        for (int i = 0; i < old.length; i++) mem.free(old[i], widths[i] * rows * 4);
        CUdeviceptr[] nu = new CUdeviceptr[widths.length];
        for (int i = 0; i < widths.length; i++) nu[i] = mem.alloc(widths[i] * n * 4); // floats and ints are 4 bytes
        x = nu[0]; xb = nu[1]; q = nu[2]; k = nu[3]; v = nu[4]; att = nu[5]; gate = nu[6]; up = nu[7]; xp = nu[8];
        tokens = nu[9]; pos = nu[10]; tableOffset = nu[11];
        rows = n;
    }

    private void growWanted(int n) {
        mem.free(normed, (long) wanted * c.hiddenSize() * Sizeof.FLOAT);
        mem.free(logits, (long) wanted * c.vocabSize() * Sizeof.FLOAT);
        normed = mem.alloc((long) n * c.hiddenSize() * Sizeof.FLOAT);
        logits = mem.alloc((long) n * c.vocabSize() * Sizeof.FLOAT);
        wanted = n;
    }
}
