package io.paddock.kvcache;

import java.util.Arrays;

/**
 * One sequence's blocks in position order: token {@code p} lives in block {@code get(p / blockSize)} at slot
 * {@code p % blockSize}. Holds one reference on each block; {@link #close()} gives them back.
 */
final class BlockTable implements AutoCloseable {
    private final BlockPool pool;
    private int[] ids = new int[8]; // (capacity) block ids, first `size` valid
    private int size;

    // Prefix-chain cursor: blocks [0, hashedBlocks) are published (or found) in the cache; the parent* fields
    // identify the cached block (possibly another sequence's copy) that the next full block chains to.
    int hashedBlocks;
    long parentHash = BlockHasher.ROOT_HASH;
    long parentSerial;     // <= 0 = root (minus the cache salt)
    int parentBlock = -1;  // -1 = root

    BlockTable(BlockPool pool) {
        this.pool = pool;
    }

    void add(int block) {
        if (size == ids.length) ids = Arrays.copyOf(ids, size * 2);
        ids[size++] = block;
    }

    int get(int index) {
        if (index >= size) throw new IndexOutOfBoundsException(index);
        return ids[index];
    }

    int size() {
        return size;
    }

    int[] toArray() {
        return Arrays.copyOf(ids, size);
    }

    /** Releases the tail first, so a sequence's own suffix is evicted before the prefix others may share. */
    @Override
    public void close() {
        for (int i = size - 1; i >= 0; i--) pool.release(ids[i]);
        size = 0;
    }
}
