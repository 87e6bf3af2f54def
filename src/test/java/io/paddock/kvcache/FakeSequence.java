package io.paddock.kvcache;

import java.util.stream.IntStream;

/** Minimal mutable {@link KvSequence} for manager tests. */
final class FakeSequence implements KvSequence {
    private final long id;
    private final int[] tokens;
    int computed;
    long salt;

    FakeSequence(long id, int[] tokens) {
        this.id = id;
        this.tokens = tokens.clone();
    }

    /** Tokens {@code start, start+1, ...}. */
    static FakeSequence counting(long id, int start, int length) {
        return new FakeSequence(id, IntStream.range(start, start + length).toArray());
    }

    /** Allocates and "computes" the whole sequence, then publishes its full blocks. */
    FakeSequence prefillIn(KvCacheManager kv) {
        int cached = kv.findCachedPrefixTokens(this);
        if (!kv.allocateSlots(this, tokens.length - cached)) throw new AssertionError("no room for " + id);
        computed = tokens.length;
        kv.cacheFullBlocks(this);
        return this;
    }

    @Override public long id() { return id; }
    @Override public int numTokens() { return tokens.length; }
    @Override public int numComputedTokens() { return computed; }
    @Override public int tokenAt(int index) { return tokens[index]; }
    @Override public long cacheSalt() { return salt; }

    FakeSequence salted(long s) {
        this.salt = s;
        return this;
    }
}
