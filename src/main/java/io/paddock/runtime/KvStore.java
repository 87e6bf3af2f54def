package io.paddock.runtime;

/**
 * KV-cache memory in fixed-size blocks, allocated once by a {@link ModelRuntime}; which block holds what is the KV
 * manager's business. Whoever asked the runtime for a store closes it when done with it (the engine when its loop
 * ends): the memory is off-heap or on a device and is not reclaimed by the garbage collector.
 */
public interface KvStore extends AutoCloseable {
    int numBlocks();

    int blockSize();

    /** Bytes of memory this store holds. */
    long bytes();

    /** The element type keys and values are kept in. */
    default KvCacheDtype dtype() {
        return KvCacheDtype.F32;
    }

    /** Frees the memory; idempotent. A store that is closed must not be used again. */
    @Override
    default void close() {}
}
