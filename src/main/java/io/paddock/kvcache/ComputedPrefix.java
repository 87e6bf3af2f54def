package io.paddock.kvcache;

/**
 * The leading full blocks of a sequence whose KV is already in the cache.
 *
 * @param blockIds  cached blocks in position order // (numBlocks)
 * @param numTokens tokens they cover: {@code blockIds.length * blockSize}
 */
public record ComputedPrefix(int[] blockIds, int numTokens) {

    public static final ComputedPrefix NONE = new ComputedPrefix(new int[0], 0);

    public ComputedPrefix {
        blockIds = blockIds.clone();
    }

    public int numBlocks() {
        return blockIds.length;
    }

    @Override
    public int[] blockIds() {
        return blockIds.clone();
    }
}
