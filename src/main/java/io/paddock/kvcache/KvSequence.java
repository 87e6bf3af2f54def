package io.paddock.kvcache;

/**
 * What the KV-cache manager needs to know about a sequence. The engine's {@code Sequence} implements it; keeping
 * the view here means {@code kvcache} does not depend on {@code engine}.
 */
public interface KvSequence {

    long id();

    /** Prompt plus generated tokens. */
    int numTokens();

    /** Leading tokens whose KV has been written (or shared from the prefix cache). */
    int numComputedTokens();

    int tokenAt(int index);

    /**
     * The namespace of the KV this sequence computes: blocks are shared only between sequences of the same salt, so
     * KV computed under one LoRA adapter is never reused by another adapter or by the bare base (0).
     */
    default long cacheSalt() {
        return 0;
    }
}
