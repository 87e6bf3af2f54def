package io.paddock.runtime.cuda;

import io.paddock.runtime.StepChunk;
import java.util.List;

/**
 * The host-side row bookkeeping of one step, validated as CpuLlama validates it (token ids, positions, block ids
 * are never checked on the device).
 *
 * @param tokens      (rows) token id of each row
 * @param pos         (rows) position of each row
 * @param tableOffset (rows) start of the row's block table in {@code tables}
 * @param tables      every chunk's block table, back to back
 * @param lastRows    (wanted) the last row of each chunk that wants logits, in chunk order
 */
record StepPlan(int[] tokens, int[] pos, int[] tableOffset, int[] tables, int[] lastRows) {

    int rows() { return tokens.length; }

    int wanted() { return lastRows.length; }

    static StepPlan of(List<StepChunk> chunks, int numBlocks, int blockSize, int vocab, int maxPositions) {
        int rows = 0, tableInts = 0, wanted = 0;
        for (StepChunk ch : chunks) {
            rows += ch.tokens().length;
            tableInts += ch.blockTable().length;
            if (ch.wantLogits() && ch.tokens().length > 0) wanted++;
        }
        int[] tokens = new int[rows], pos = new int[rows], off = new int[rows], tables = new int[Math.max(1, tableInts)];
        int[] last = new int[wanted];
        int r = 0, t0 = 0, w = 0;
        for (StepChunk ch : chunks) {
            int[] bt = ch.blockTable();
            for (int b : bt) {
                if (b < 0 || b >= numBlocks) throw new IllegalArgumentException("block id " + b + " outside [0, " + numBlocks + ")");
            }
            System.arraycopy(bt, 0, tables, t0, bt.length);
            for (int t = 0; t < ch.tokens().length; t++, r++) {
                int token = ch.tokens()[t];
                if (token < 0 || token >= vocab) throw new IllegalArgumentException("token id " + token + " outside the vocabulary");
                int p = ch.startPos() + t;
                if (p < 0 || p >= (long) bt.length * blockSize || p >= maxPositions) {
                    throw new IllegalArgumentException("position " + p + " has no KV block or exceeds the context");
                }
                tokens[r] = token;
                pos[r] = p;
                off[r] = t0;
            }
            if (ch.wantLogits() && ch.tokens().length > 0) last[w++] = r - 1;
            t0 += bt.length;
        }
        return new StepPlan(tokens, pos, off, tables, last);
    }
}
