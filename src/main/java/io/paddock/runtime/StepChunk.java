package io.paddock.runtime;

/**
 * One sequence's part of a step: {@code tokens} at positions {@code startPos, startPos+1, ...}, whose keys and values
 * go to (and whose attention reads from) the KV blocks listed in {@code blockTable}. {@code wantLogits}: return the
 * logits of the chunk's last row.
 */
public record StepChunk(int[] blockTable, int[] tokens, int startPos, boolean wantLogits) {}
