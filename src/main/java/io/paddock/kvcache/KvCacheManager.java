package io.paddock.kvcache;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Paged KV cache bookkeeping: which blocks each sequence owns, and which full blocks can be shared between
 * sequences with the same prefix. It never touches KV memory; the runtime reads {@link #blockTable(long)}.
 * Single-threaded, like the engine loop that drives it.
 */
public final class KvCacheManager {
    private final BlockPool pool;
    private final int blockSize;
    private final boolean prefixCaching;
    private final BlockHasher hasher;
    private final Map<Long, BlockTable> tables = new HashMap<>();
    private long prefixQueries;
    private long prefixQueryTokens;
    private long prefixHitTokens;

    public KvCacheManager(int numBlocks, int blockSize, boolean prefixCaching) {
        this(numBlocks, blockSize, prefixCaching, BlockHasher.standard());
    }

    /** With another hasher; tests inject a colliding one. */
    public KvCacheManager(int numBlocks, int blockSize, boolean prefixCaching, BlockHasher hasher) {
        this.pool = new BlockPool(numBlocks, blockSize);
        this.blockSize = blockSize;
        this.prefixCaching = prefixCaching;
        this.hasher = hasher;
    }

    // ---- prefix lookup ----

    /**
     * The longest run of leading full blocks already cached. Never covers every token: the last one must still go
     * through the model to produce logits, so at most {@code (numTokens - 1) / blockSize} blocks match.
     */
    public ComputedPrefix findCachedPrefix(KvSequence s) {
        if (!prefixCaching) return ComputedPrefix.NONE;
        int maxBlocks = (s.numTokens() - 1) / blockSize;
        int[] found = new int[maxBlocks];
        int n = 0;
        long parentHash = BlockHasher.rootHash(s.cacheSalt());
        long parentSerial = BlockHasher.rootSerial(s.cacheSalt());
        for (; n < maxBlocks; n++) {
            int[] blockTokens = blockTokens(s, n);
            long h = hasher.hash(parentHash, blockTokens);
            int b = pool.lookup(h, parentSerial, blockTokens);
            if (b < 0) break;
            found[n] = b;
            parentHash = h;
            parentSerial = pool.serial(b);
        }
        return n == 0 ? ComputedPrefix.NONE : new ComputedPrefix(Arrays.copyOf(found, n), n * blockSize);
    }

    public int findCachedPrefixTokens(KvSequence s) {
        return findCachedPrefix(s).numTokens();
    }

    // ---- allocation ----

    /**
     * Makes room for positions {@code [0, numComputedTokens + numNewTokens)}. On the first call for a sequence
     * (no table yet) the cached prefix is taken first (ref++) and counts as computed: the caller passes
     * {@code numNewTokens} beyond {@link #findCachedPrefixTokens} and sets {@code numComputedTokens} to it after
     * success (the sequence may already carry that value, or still 0). Returns false and changes nothing when the
     * pool cannot supply the blocks; cached free blocks are evicted (LRU) before that happens.
     */
    public boolean allocateSlots(KvSequence s, int numNewTokens) {
        if (numNewTokens < 0) throw new IllegalArgumentException("numNewTokens must be >= 0, got " + numNewTokens);
        BlockTable table = tables.get(s.id());
        if (table != null) {
            int need = blocksNeeded(s.numComputedTokens() + numNewTokens) - table.size();
            if (need <= 0) return true;
            if (pool.freeBlocks() < need) return false;
            for (int i = 0; i < need; i++) table.add(pool.allocate());
            return true;
        }
        ComputedPrefix prefix = findCachedPrefix(s);
        int computed = s.numComputedTokens();
        if (computed != 0 && computed != prefix.numTokens()) {
            throw new IllegalStateException("sequence " + s.id() + " claims " + computed
                    + " computed tokens but holds no KV blocks (cached prefix: " + prefix.numTokens() + ")");
        }
        int[] shared = prefix.blockIds();
        int needNew = Math.max(0, blocksNeeded(prefix.numTokens() + numNewTokens) - shared.length);
        int sharedNowFree = 0;
        for (int b : shared) if (pool.refCount(b) == 0) sharedNowFree++;
        if (pool.freeBlocks() - sharedNowFree < needNew) return false;

        table = new BlockTable(pool);
        for (int b : shared) {
            pool.retain(b);
            table.add(b);
        }
        if (shared.length > 0) {
            int last = shared[shared.length - 1];
            table.hashedBlocks = shared.length;
            table.parentHash = pool.hashOf(last);
            table.parentSerial = pool.serial(last);
            table.parentBlock = last;
        } else {
            table.parentHash = BlockHasher.rootHash(s.cacheSalt());
            table.parentSerial = BlockHasher.rootSerial(s.cacheSalt());
        }
        for (int i = 0; i < needNew; i++) table.add(pool.allocate());
        tables.put(s.id(), table);
        if (prefixCaching) {
            prefixQueries++;
            prefixQueryTokens += s.numTokens();
            prefixHitTokens += prefix.numTokens();
        }
        return true;
    }

    /**
     * After a step: publishes the blocks that became full of computed tokens. A block whose content is already
     * cached under the same parent stays private (the existing copy becomes the parent of what follows).
     */
    public void cacheFullBlocks(KvSequence s) {
        if (!prefixCaching) return;
        BlockTable table = tables.get(s.id());
        if (table == null) return;
        int full = Math.min(s.numComputedTokens() / blockSize, table.size());
        for (int i = table.hashedBlocks; i < full; i++) {
            if (table.parentBlock >= 0 && pool.serial(table.parentBlock) != table.parentSerial) {
                // The parent copy we chained to (another sequence's) was evicted: children published now would
                // be unreachable, and could push live entries out of the index. Stop publishing.
                table.hashedBlocks = Integer.MAX_VALUE;
                return;
            }
            int[] blockTokens = blockTokens(s, i);
            long h = hasher.hash(table.parentHash, blockTokens);
            int canonical = pool.lookup(h, table.parentSerial, blockTokens);
            if (canonical < 0) {
                canonical = table.get(i);
                pool.register(canonical, h, table.parentSerial, blockTokens);
            }
            table.parentHash = h;
            table.parentSerial = pool.serial(canonical);
            table.parentBlock = canonical;
            table.hashedBlocks = i + 1;
        }
    }

    /** Returns a sequence's blocks, tail first. Idempotent; unknown ids are ignored. */
    public void free(long seqId) {
        BlockTable table = tables.remove(seqId);
        if (table != null) table.close();
    }

    public void free(KvSequence s) {
        free(s.id());
    }

    /** Copy of the sequence's block ids in position order; empty when it holds none. */
    public int[] blockTable(long seqId) {
        BlockTable table = tables.get(seqId);
        return table == null ? new int[0] : table.toArray();
    }

    public boolean holdsBlocks(long seqId) {
        return tables.containsKey(seqId);
    }

    public int blocksNeeded(int tokens) {
        if (tokens < 0) throw new IllegalArgumentException("tokens must be >= 0, got " + tokens);
        return (int) ((tokens + (long) blockSize - 1) / blockSize);
    }

    // ---- stats ----

    public int numBlocks() { return pool.numBlocks(); }

    public int blockSize() { return blockSize; }

    public boolean prefixCaching() { return prefixCaching; }

    public int freeBlocks() { return pool.freeBlocks(); }

    public int usedBlocks() { return pool.numBlocks() - pool.freeBlocks(); }

    public int cachedBlocks() { return pool.cachedBlocks(); }

    /** Sequences that went through a prefix lookup when they got their first blocks. */
    public long prefixQueries() { return prefixQueries; }

    /** Tokens those sequences had at that moment; hit rate = {@link #prefixHitTokens()} / this. */
    public long prefixQueryTokens() { return prefixQueryTokens; }

    public long prefixHitTokens() { return prefixHitTokens; }

    public long evictions() { return pool.evictions(); }

    /** Fraction of blocks referenced by some sequence, in [0, 1]. */
    public double usage() {
        return (double) usedBlocks() / pool.numBlocks();
    }

    public int refCount(int blockId) { return pool.refCount(blockId); }

    public boolean isCached(int blockId) { return pool.isCached(blockId); }

    /** The pool underneath, for tests in this package. */
    BlockPool pool() { return pool; }

    private int[] blockTokens(KvSequence s, int block) {
        int[] out = new int[blockSize];
        int base = block * blockSize;
        for (int j = 0; j < blockSize; j++) out[j] = s.tokenAt(base + j);
        return out;
    }
}
