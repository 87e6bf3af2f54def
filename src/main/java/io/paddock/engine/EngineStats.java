package io.paddock.engine;

/**
 * A snapshot of the engine's state for metrics and health checks.
 *
 * @param waiting          requests queued for admission (including preempted ones)
 * @param running          sequences in the running batch
 * @param blocksTotal      KV blocks in the pool
 * @param blocksUsed       KV blocks held by live sequences
 * @param blocksCached     free KV blocks still holding a reusable prefix
 * @param preemptions      sequences preempted since start
 * @param prefixHitTokens  prompt tokens whose KV came from the prefix cache instead of being computed
 * @param computedTokens   tokens run through the model since start
 * @param steps            forward steps since start
 * @param lastBatchSize    sequences in the last step
 * @param lastStepTokens   tokens in the last step
 * @param kvTokens         tokens whose keys and values the running sequences hold in KV blocks
 * @param blockSize        tokens per KV block
 */
public record EngineStats(int waiting, int running, int blocksTotal, int blocksUsed, int blocksCached,
        long preemptions, long prefixHitTokens, long computedTokens, long steps, int lastBatchSize,
        int lastStepTokens, long kvTokens, int blockSize) {

    /** Share of the used KV blocks' token slots that hold no token (partly filled last blocks): 0 is no waste. */
    public double kvWaste() {
        long slots = (long) blocksUsed * blockSize;
        return slots == 0 ? 0 : 1 - Math.min(kvTokens, slots) / (double) slots;
    }
}
