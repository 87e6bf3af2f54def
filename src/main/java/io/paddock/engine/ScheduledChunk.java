package io.paddock.engine;

/**
 * One sequence's share of a step: compute KV for positions {@code [startPos, startPos + numTokens)}.
 *
 * @param startPos   the sequence's numComputedTokens before the step
 * @param tokens     ids at those positions // (numTokens)
 * @param blockTable the sequence's blocks, covering every position up to the chunk's end // (numBlocks)
 * @param wantLogits the chunk reaches the sequence's last token, so its last row is sampled
 */
public record ScheduledChunk(Sequence seq, int startPos, int numTokens, int[] tokens, int[] blockTable,
        boolean wantLogits) {

    public ScheduledChunk {
        if (tokens.length != numTokens) {
            throw new IllegalArgumentException("tokens.length " + tokens.length + " != numTokens " + numTokens);
        }
    }
}
