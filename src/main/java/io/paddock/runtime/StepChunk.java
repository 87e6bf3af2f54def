package io.paddock.runtime;

/**
 * One sequence's part of a step: {@code tokens} at positions {@code startPos, startPos+1, ...}, whose keys and values
 * go to (and whose attention reads from) the KV blocks listed in {@code blockTable}. {@code wantLogits}: return the
 * logits of the chunk's last row. A chunk has at least one token: the scheduler never schedules an empty one, and
 * "the logits of the last row" would otherwise name a row of another sequence. {@code adapterSlot}: the runtime's
 * LoRA slot whose adapter applies to every row of the chunk ({@link ModelRuntime#loadAdapter}), or
 * {@link #NO_ADAPTER} for the bare base model.
 */
public record StepChunk(int[] blockTable, int[] tokens, int startPos, boolean wantLogits, int adapterSlot) {
    /** The slot of a chunk that runs on the bare base model. */
    public static final int NO_ADAPTER = 0;

    public StepChunk {
        if (tokens.length == 0) throw new IllegalArgumentException("a step chunk needs at least one token");
        if (startPos < 0) throw new IllegalArgumentException("startPos must be >= 0, got " + startPos);
        if (adapterSlot < 0) throw new IllegalArgumentException("adapterSlot must be >= 0, got " + adapterSlot);
    }

    /** A chunk on the bare base model. */
    public StepChunk(int[] blockTable, int[] tokens, int startPos, boolean wantLogits) {
        this(blockTable, tokens, startPos, wantLogits, NO_ADAPTER);
    }
}
