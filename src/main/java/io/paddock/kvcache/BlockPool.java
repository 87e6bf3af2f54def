package io.paddock.kvcache;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Fixed set of KV blocks (ids {@code 0..numBlocks-1}) with reference counts, a free queue and the prefix-cache
 * index. Not thread-safe: the engine thread owns it.
 *
 * <p>The free queue is an intrusive doubly linked list over block ids, so a cached block that gets reused while
 * free is unlinked from the middle in O(1). Freed blocks join the tail and allocation takes the head, which makes
 * eviction of cached-but-free blocks least-recently-freed first.
 *
 * <p>A cached block carries a {@code serial} that is never reused. Children record their parent's serial, so a
 * child is only matched under the exact parent block it was computed after; once that parent is evicted (its
 * serial dies) the child is unreachable even if some other block later takes the same hash.
 */
public final class BlockPool {
    private static final int NONE = -1;

    private final int numBlocks;
    private final int blockSize;
    private final int[] refCount;     // (numBlocks)
    private final int[] prev;         // (numBlocks) free-queue link towards the head, NONE at the end
    private final int[] next;         // (numBlocks) free-queue link towards the tail, NONE at the end
    private final boolean[] queued;   // (numBlocks) in the free queue
    private int head = NONE;
    private int tail = NONE;
    private int freeCount;

    private final long[] hash;         // (numBlocks) valid while serial != 0
    private final long[] serial;       // (numBlocks) 0 = not cached
    private final long[] parentSerial; // (numBlocks) <= 0 = first block of a sequence (minus its cache salt)
    private final int[][] tokens;      // (numBlocks)(blockSize) token ids of a cached block, kept to verify hits
    private final Map<Long, Integer> byHash = new HashMap<>();
    private long nextSerial = 1;
    private long evictions;

    public BlockPool(int numBlocks, int blockSize) {
        if (numBlocks < 1) throw new IllegalArgumentException("numBlocks must be >= 1, got " + numBlocks);
        if (blockSize < 1) throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        refCount = new int[numBlocks];
        prev = new int[numBlocks];
        next = new int[numBlocks];
        queued = new boolean[numBlocks];
        hash = new long[numBlocks];
        serial = new long[numBlocks];
        parentSerial = new long[numBlocks];
        tokens = new int[numBlocks][];
        for (int b = 0; b < numBlocks; b++) append(b);
    }

    // ---- allocation and reference counts ----

    /** Takes the head of the free queue (evicting its cached content, if any) with ref count 1. */
    public int allocate() {
        if (freeCount == 0) throw new IllegalStateException("no free KV block");
        int b = head;
        unlink(b);
        if (serial[b] != 0) {
            uncache(b);
            evictions++;
        }
        refCount[b] = 1;
        return b;
    }

    /** Adds a reference to a block; a cached block that was free leaves the free queue. */
    public void retain(int block) {
        checkId(block);
        if (refCount[block] == 0) {
            if (serial[block] == 0) throw new IllegalStateException("block " + block + " is free and not cached");
            unlink(block);
        }
        refCount[block]++;
    }

    /** Drops a reference; at zero the block joins the tail of the free queue, keeping any cached content. */
    public void release(int block) {
        checkId(block);
        if (refCount[block] <= 0) throw new IllegalStateException("block " + block + " released while free");
        if (--refCount[block] == 0) append(block);
    }

    // ---- prefix cache ----

    /** The cached block for this hash, parent and content, or -1. */
    public int lookup(long blockHash, long parent, int[] blockTokens) {
        Integer b = byHash.get(blockHash);
        if (b == null || parentSerial[b] != parent || !Arrays.equals(tokens[b], blockTokens)) return NONE;
        return b;
    }

    /**
     * Publishes a full, computed, referenced block. An entry holding the same hash with other content or another
     * parent (a collision, or a stale child of an evicted parent) is dropped from the index: it stays valid for
     * whoever holds it but can no longer be shared.
     */
    public void register(int block, long blockHash, long parent, int[] blockTokens) {
        checkId(block);
        if (refCount[block] == 0) throw new IllegalStateException("block " + block + " is free");
        if (serial[block] != 0) throw new IllegalStateException("block " + block + " is already cached");
        if (blockTokens.length != blockSize) throw new IllegalArgumentException("only full blocks are cached");
        Integer old = byHash.get(blockHash);
        if (old != null) uncache(old);
        byHash.put(blockHash, block);
        hash[block] = blockHash;
        serial[block] = nextSerial++;
        parentSerial[block] = parent;
        if (tokens[block] == null) tokens[block] = new int[blockSize];
        System.arraycopy(blockTokens, 0, tokens[block], 0, blockSize);
    }

    /** Identity of a cached block for its children's parent check; 0 when not cached. */
    public long serial(int block) {
        checkId(block);
        return serial[block];
    }

    public long hashOf(int block) {
        checkId(block);
        if (serial[block] == 0) throw new IllegalStateException("block " + block + " is not cached");
        return hash[block];
    }

    public boolean isCached(int block) {
        return serial(block) != 0;
    }

    // ---- stats ----

    public int numBlocks() { return numBlocks; }

    public int blockSize() { return blockSize; }

    /** Blocks with no reference, cached or not (cached ones are evicted on demand). */
    public int freeBlocks() { return freeCount; }

    public int cachedBlocks() { return byHash.size(); }

    public long evictions() { return evictions; }

    public int refCount(int block) {
        checkId(block);
        return refCount[block];
    }

    /** Free-queue order, head (next to be allocated) first. For tests and debugging. */
    public int[] freeQueue() {
        int[] out = new int[freeCount];
        int i = 0;
        for (int b = head; b != NONE; b = next[b]) out[i++] = b;
        return out;
    }

    // ---- internals ----

    private void uncache(int b) {
        byHash.remove(hash[b]);
        serial[b] = 0;
        parentSerial[b] = 0;
        hash[b] = 0;
    }

    private void append(int b) {
        prev[b] = tail;
        next[b] = NONE;
        if (tail == NONE) head = b; else next[tail] = b;
        tail = b;
        queued[b] = true;
        freeCount++;
    }

    private void unlink(int b) {
        if (!queued[b]) throw new IllegalStateException("block " + b + " is not in the free queue");
        if (prev[b] == NONE) head = next[b]; else next[prev[b]] = next[b];
        if (next[b] == NONE) tail = prev[b]; else prev[next[b]] = prev[b];
        prev[b] = next[b] = NONE;
        queued[b] = false;
        freeCount--;
    }

    private void checkId(int b) {
        if (b < 0 || b >= numBlocks) throw new IndexOutOfBoundsException("block " + b + " of " + numBlocks);
    }
}
