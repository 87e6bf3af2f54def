package io.paddock.runtime;

/** KV-cache memory in fixed-size blocks, allocated once by a {@link ModelRuntime}; which block holds what is the KV manager's business. */
public interface KvStore {
    int numBlocks();

    int blockSize();

    /** Bytes of memory this store holds. */
    long bytes();
}
