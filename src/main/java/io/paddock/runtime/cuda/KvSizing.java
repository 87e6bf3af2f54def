package io.paddock.runtime.cuda;

/** How many KV blocks fit in the VRAM left after the weights: pure arithmetic, so it is tested without a GPU. */
public final class KvSizing {
    private KvSizing() {}

    /**
     * {@code floor(fraction · freeBytes / (blockSize · kvBytesPerToken))}, but at least enough blocks for one
     * full context ({@code ceil(maxContext / blockSize)}), since fewer could never serve a maximal request.
     *
     * @param freeBytes device bytes free after the weights and scratch are allocated
     * @param fraction  share of the free bytes the KV pool may take, in (0, 1]
     */
    public static int blocks(long freeBytes, double fraction, int blockSize, long kvBytesPerToken, int maxContext) {
        if (!(fraction > 0 && fraction <= 1)) throw new IllegalArgumentException("fraction must be in (0, 1]: " + fraction);
        if (blockSize <= 0 || kvBytesPerToken <= 0 || maxContext <= 0) {
            throw new IllegalArgumentException("blockSize, kvBytesPerToken and maxContext must be > 0");
        }
        long perBlock = Math.multiplyExact((long) blockSize, kvBytesPerToken);
        long fit = (long) Math.floor(fraction * Math.max(0, freeBytes) / perBlock);
        long minimum = Math.ceilDiv(maxContext, blockSize);
        return Math.toIntExact(Math.min(Integer.MAX_VALUE, Math.max(fit, minimum)));
    }
}
