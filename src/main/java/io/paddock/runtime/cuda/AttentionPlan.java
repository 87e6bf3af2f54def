package io.paddock.runtime.cuda;

import java.util.Arrays;

/**
 * How one step's rows go to the fp16-KV attention kernels: a row that is a chunk on its own (a decode step's rows,
 * or a one-token prefill chunk) goes to paged_attention_decode_f16 (flash-decoding over context partitions); the
 * rows of a longer chunk go, in tiles of consecutive rows, to paged_attention_prefill_f16, which reads each K/V
 * tile once for the tile's rows times the GQA group's query heads (at most {@link #MAX_QUERIES} per block, so
 * {@code max(1, 16 / group)} rows per tile). A chunk is a run of rows with the same block-table offset (StepPlan
 * gives each chunk its own) and consecutive positions.
 *
 * @param decodeRows the rows of single-row chunks, in row order
 * @param tiles      (first row, row count) of each prefill tile, back to back
 */
record AttentionPlan(int[] decodeRows, int[] tiles) {
    /** Query vectors one attention block holds (PA16_QUERIES in paged_attention.cu). */
    static final int MAX_QUERIES = 16;

    int decodeCount() { return decodeRows.length; }

    int tileCount() { return tiles.length / 2; }

    /** Rows per prefill tile for {@code group} query heads per kv head (1..16). */
    static int tileRows(int group) {
        if (group < 1 || group > MAX_QUERIES) {
            throw new IllegalArgumentException("the fp16-KV attention kernels take 1.." + MAX_QUERIES
                    + " query heads per kv head, got " + group);
        }
        return Math.max(1, MAX_QUERIES / group);
    }

    static AttentionPlan of(StepPlan plan, int group) {
        int tileRows = tileRows(group);
        int rows = plan.rows();
        int[] pos = plan.pos(), off = plan.tableOffset();
        int[] decode = new int[rows], tiles = new int[2 * rows];
        int nd = 0, nt = 0;
        for (int r = 0; r < rows; ) {
            int end = r + 1;
            while (end < rows && off[end] == off[r] && pos[end] == pos[end - 1] + 1) end++;
            if (end - r == 1) {
                decode[nd++] = r;
            } else {
                for (int t = r; t < end; t += tileRows) {
                    tiles[nt++] = t;
                    tiles[nt++] = Math.min(tileRows, end - t);
                }
            }
            r = end;
        }
        return new AttentionPlan(Arrays.copyOf(decode, nd), Arrays.copyOf(tiles, nt));
    }
}
