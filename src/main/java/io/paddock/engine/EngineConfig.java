package io.paddock.engine;

/**
 * Engine sizing.
 *
 * @param blockSize           tokens per KV block (16, as vLLM)
 * @param kvCacheBytes        memory for the KV pool; 0 = automatic (see {@link #numBlocks})
 * @param maxNumSeqs          most sequences in one batch
 * @param maxNumBatchedTokens per-step token budget; longer prompts are prefilled in chunks
 * @param prefixCaching       reuse the KV of identical prompt prefixes across requests
 * @param maxQueued           requests allowed to wait for admission before new ones are refused
 */
public record EngineConfig(int blockSize, long kvCacheBytes, int maxNumSeqs, int maxNumBatchedTokens,
        boolean prefixCaching, int maxQueued) {

    public static EngineConfig defaults() {
        return new EngineConfig(16, 0, 64, 512, true, 256);
    }

    /**
     * Blocks for a model whose cached token takes {@code bytesPerToken}: the configured budget, or automatically
     * enough for {@code maxNumSeqs} full contexts capped at the runtime's {@code defaultBudget}, and never less than
     * one full context (a request that fits the model must fit the pool).
     */
    public int numBlocks(long bytesPerToken, int contextLength, long defaultBudget) {
        long blockBytes = bytesPerToken * blockSize;
        int oneContext = Math.ceilDiv(contextLength, blockSize);
        long blocks;
        if (kvCacheBytes > 0) {
            blocks = kvCacheBytes / blockBytes;
        } else {
            blocks = Math.min((long) oneContext * maxNumSeqs, defaultBudget / blockBytes);
            blocks = Math.max(blocks, oneContext);
        }
        if (blocks < 1) throw new IllegalArgumentException("KV cache budget of " + kvCacheBytes
                + " bytes holds not even one block of " + blockBytes + " bytes");
        return (int) Math.min(blocks, Integer.MAX_VALUE);
    }
}
