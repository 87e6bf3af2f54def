package io.paddock.runtime;

/**
 * One sequence's part of a step: {@code tokens} at positions {@code startPos, startPos+1, ...}, whose keys and values
 * go to (and whose attention reads from) the KV blocks listed in {@code blockTable}. {@code wantLogits}: return the
 * logits of the chunk's last row. A chunk has at least one token: the scheduler never schedules an empty one, and
 * "the logits of the last row" would otherwise name a row of another sequence.
 */
public record StepChunk(int[] blockTable, int[] tokens, int startPos, boolean wantLogits) {
    public StepChunk {
        if (tokens.length == 0) throw new IllegalArgumentException("a step chunk needs at least one token");
        if (startPos < 0) throw new IllegalArgumentException("startPos must be >= 0, got " + startPos);
    }
}
