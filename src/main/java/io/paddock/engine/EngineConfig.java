package io.paddock.engine;

import io.paddock.runtime.KvCacheDtype;
import java.time.Duration;

/**
 * Engine sizing: the one definition of the engine settings and their defaults. The {@code DEFAULT_*} constants are
 * the defaults; {@code paddock.engine.*} (PaddockProperties) binds to them and {@link #defaults()} is built from them.
 *
 * @param blockSize           tokens per KV block (16, as vLLM)
 * @param kvCacheBytes        memory for the KV pool; 0 = automatic (see {@link #numBlocks})
 * @param maxNumSeqs          most sequences in one batch
 * @param maxNumBatchedTokens per-step token budget; longer prompts are prefilled in chunks
 * @param prefixCaching       reuse the KV of identical prompt prefixes across requests
 * @param maxQueued           requests allowed to wait for admission before new ones are refused
 * @param maxQueuedPromptTokens prompt tokens allowed to wait (summed over waiting requests) before new requests are
 *                            refused; one request is always let in when none waits
 * @param maxQueueWait        how long a request may wait before it starts; past it, it is dropped as overloaded
 * @param kvCacheDtype        element type of the KV cache; AUTO lets the runtime choose (f16 on the CPU and on CUDA)
 */
public record EngineConfig(int blockSize, long kvCacheBytes, int maxNumSeqs, int maxNumBatchedTokens,
        boolean prefixCaching, int maxQueued, long maxQueuedPromptTokens, Duration maxQueueWait,
        KvCacheDtype kvCacheDtype) {

    public static final String DEFAULT_KV_CACHE_DTYPE = "auto";
    public static final int DEFAULT_BLOCK_SIZE = 16;
    public static final long DEFAULT_KV_CACHE_BYTES = 0;
    public static final int DEFAULT_MAX_NUM_SEQS = 64;
    public static final int DEFAULT_MAX_NUM_BATCHED_TOKENS = 512;
    public static final boolean DEFAULT_PREFIX_CACHING = true;
    public static final int DEFAULT_MAX_QUEUED = 256;
    public static final long DEFAULT_MAX_QUEUED_PROMPT_TOKENS = 131_072;
    public static final long DEFAULT_MAX_QUEUE_WAIT_SECONDS = 60;

    private static final EngineConfig DEFAULTS = new EngineConfig(DEFAULT_BLOCK_SIZE, DEFAULT_KV_CACHE_BYTES,
            DEFAULT_MAX_NUM_SEQS, DEFAULT_MAX_NUM_BATCHED_TOKENS, DEFAULT_PREFIX_CACHING, DEFAULT_MAX_QUEUED);

    public EngineConfig {
        if (maxQueuedPromptTokens < 1) throw new IllegalArgumentException("maxQueuedPromptTokens must be >= 1");
        if (maxQueueWait.isNegative() || maxQueueWait.isZero()) {
            throw new IllegalArgumentException("maxQueueWait must be positive, got " + maxQueueWait);
        }
        if (kvCacheDtype == null) kvCacheDtype = KvCacheDtype.AUTO;
    }

    /** All settings but the KV dtype, which is left to the runtime (AUTO). */
    public EngineConfig(int blockSize, long kvCacheBytes, int maxNumSeqs, int maxNumBatchedTokens,
            boolean prefixCaching, int maxQueued, long maxQueuedPromptTokens, Duration maxQueueWait) {
        this(blockSize, kvCacheBytes, maxNumSeqs, maxNumBatchedTokens, prefixCaching, maxQueued, maxQueuedPromptTokens,
                maxQueueWait, KvCacheDtype.AUTO);
    }

    /** The sizing settings, with the default queue limits. */
    public EngineConfig(int blockSize, long kvCacheBytes, int maxNumSeqs, int maxNumBatchedTokens,
            boolean prefixCaching, int maxQueued) {
        this(blockSize, kvCacheBytes, maxNumSeqs, maxNumBatchedTokens, prefixCaching, maxQueued,
                DEFAULT_MAX_QUEUED_PROMPT_TOKENS, Duration.ofSeconds(DEFAULT_MAX_QUEUE_WAIT_SECONDS));
    }

    public static EngineConfig defaults() {
        return DEFAULTS;
    }

    public EngineConfig withBlockSize(int v) {
        return new EngineConfig(v, kvCacheBytes, maxNumSeqs, maxNumBatchedTokens, prefixCaching, maxQueued,
                maxQueuedPromptTokens, maxQueueWait, kvCacheDtype);
    }

    public EngineConfig withKvCacheBytes(long v) {
        return new EngineConfig(blockSize, v, maxNumSeqs, maxNumBatchedTokens, prefixCaching, maxQueued,
                maxQueuedPromptTokens, maxQueueWait, kvCacheDtype);
    }

    public EngineConfig withMaxNumSeqs(int v) {
        return new EngineConfig(blockSize, kvCacheBytes, v, maxNumBatchedTokens, prefixCaching, maxQueued,
                maxQueuedPromptTokens, maxQueueWait, kvCacheDtype);
    }

    public EngineConfig withMaxNumBatchedTokens(int v) {
        return new EngineConfig(blockSize, kvCacheBytes, maxNumSeqs, v, prefixCaching, maxQueued,
                maxQueuedPromptTokens, maxQueueWait, kvCacheDtype);
    }

    public EngineConfig withPrefixCaching(boolean v) {
        return new EngineConfig(blockSize, kvCacheBytes, maxNumSeqs, maxNumBatchedTokens, v, maxQueued,
                maxQueuedPromptTokens, maxQueueWait, kvCacheDtype);
    }

    public EngineConfig withMaxQueued(int v) {
        return new EngineConfig(blockSize, kvCacheBytes, maxNumSeqs, maxNumBatchedTokens, prefixCaching, v,
                maxQueuedPromptTokens, maxQueueWait, kvCacheDtype);
    }

    public EngineConfig withQueueLimits(long promptTokens, Duration wait) {
        return new EngineConfig(blockSize, kvCacheBytes, maxNumSeqs, maxNumBatchedTokens, prefixCaching, maxQueued,
                promptTokens, wait, kvCacheDtype);
    }

    public EngineConfig withKvCacheDtype(KvCacheDtype v) {
        return new EngineConfig(blockSize, kvCacheBytes, maxNumSeqs, maxNumBatchedTokens, prefixCaching, maxQueued,
                maxQueuedPromptTokens, maxQueueWait, v);
    }

    /** The per-step token budget actually used: never below {@code maxNumSeqs}, so every running sequence gets a share. */
    public int stepTokenBudget() {
        return Math.max(maxNumBatchedTokens, maxNumSeqs);
    }

    /** The scheduler's limits for a model of {@code maxModelLen} tokens and a pool of {@code numBlocks} KV blocks. */
    public SchedulerConfig schedulerConfig(int maxModelLen, int numBlocks) {
        return new SchedulerConfig(withMaxNumBatchedTokens(stepTokenBudget()), maxModelLen, numBlocks);
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
