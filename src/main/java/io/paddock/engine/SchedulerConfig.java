package io.paddock.engine;

/**
 * Scheduler limits.
 *
 * @param maxNumSeqs          most sequences running at once (the batch's row count)
 * @param maxNumBatchedTokens per-step token budget over all sequences; long prompts are chunked to fit
 * @param blockSize           tokens per KV block
 * @param maxModelLen         most tokens (prompt + output) one sequence may reach
 * @param prefixCaching       share full blocks between sequences with the same prefix
 * @param numBlocks           KV blocks the runtime allocated
 */
public record SchedulerConfig(int maxNumSeqs, int maxNumBatchedTokens, int blockSize, int maxModelLen,
        boolean prefixCaching, int numBlocks) {

    public SchedulerConfig {
        positive("maxNumSeqs", maxNumSeqs);
        positive("maxNumBatchedTokens", maxNumBatchedTokens);
        positive("blockSize", blockSize);
        positive("maxModelLen", maxModelLen);
        positive("numBlocks", numBlocks);
        if (maxNumBatchedTokens < maxNumSeqs) {
            // otherwise the newest running sequences could wait forever for a share of the budget
            throw new IllegalArgumentException("maxNumBatchedTokens (" + maxNumBatchedTokens
                    + ") must be >= maxNumSeqs (" + maxNumSeqs + ")");
        }
        if (maxModelLen < 2) throw new IllegalArgumentException("maxModelLen must leave room for a prompt and one "
                + "generated token, got " + maxModelLen);
    }

    private static void positive(String name, int value) {
        if (value < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + value);
    }
}
