package io.paddock.engine;

/**
 * Scheduler limits: the engine settings ({@link EngineConfig}) plus what only the loaded model and the allocated
 * pool decide. Derived from EngineConfig (see {@link EngineConfig#schedulerConfig}) rather than repeating its fields.
 *
 * @param engine      the engine settings; its {@code maxNumSeqs} is the batch's row count and its
 *                    {@code maxNumBatchedTokens} the per-step token budget over all sequences (long prompts are
 *                    chunked to fit)
 * @param maxModelLen most tokens (prompt + output) one sequence may reach
 * @param numBlocks   KV blocks the runtime allocated
 */
public record SchedulerConfig(EngineConfig engine, int maxModelLen, int numBlocks) {

    public SchedulerConfig {
        positive("maxNumSeqs", engine.maxNumSeqs());
        positive("maxNumBatchedTokens", engine.maxNumBatchedTokens());
        positive("blockSize", engine.blockSize());
        positive("maxModelLen", maxModelLen);
        positive("numBlocks", numBlocks);
        if (engine.maxNumBatchedTokens() < engine.maxNumSeqs()) {
            // otherwise the newest running sequences could wait forever for a share of the budget
            throw new IllegalArgumentException("maxNumBatchedTokens (" + engine.maxNumBatchedTokens()
                    + ") must be >= maxNumSeqs (" + engine.maxNumSeqs() + ")");
        }
        if (maxModelLen < 2) throw new IllegalArgumentException("maxModelLen must leave room for a prompt and one "
                + "generated token, got " + maxModelLen);
    }

    /** Most sequences running at once (the batch's row count). */
    public int maxNumSeqs() { return engine.maxNumSeqs(); }

    /** Per-step token budget over all sequences. */
    public int maxNumBatchedTokens() { return engine.maxNumBatchedTokens(); }

    /** Tokens per KV block. */
    public int blockSize() { return engine.blockSize(); }

    /** Share full blocks between sequences with the same prefix. */
    public boolean prefixCaching() { return engine.prefixCaching(); }

    private static void positive(String name, int value) {
        if (value < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + value);
    }
}
