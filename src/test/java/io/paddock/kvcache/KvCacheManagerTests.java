package io.paddock.kvcache;

import static io.paddock.testing.EngineTesting.concat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class KvCacheManagerTests {

    @Test
    void blocksNeededRoundsUp() {
        KvCacheManager kv = new KvCacheManager(4, 16, false);
        assertThat(kv.blocksNeeded(0)).isZero();
        assertThat(kv.blocksNeeded(1)).isEqualTo(1);
        assertThat(kv.blocksNeeded(16)).isEqualTo(1);
        assertThat(kv.blocksNeeded(17)).isEqualTo(2);
    }

    @Test
    void allocatesAsTheSequenceGrowsAndFreesEverything() {
        KvCacheManager kv = new KvCacheManager(10, 4, false);
        FakeSequence s = FakeSequence.counting(1, 0, 10);
        assertThat(kv.allocateSlots(s, 6)).isTrue();
        assertThat(kv.blockTable(1)).hasSize(2);
        s.computed = 6;
        assertThat(kv.allocateSlots(s, 2)).isTrue();    // positions up to 8 still fit
        assertThat(kv.blockTable(1)).hasSize(2);
        s.computed = 8;
        assertThat(kv.allocateSlots(s, 2)).isTrue();
        assertThat(kv.blockTable(1)).containsExactly(0, 1, 2);
        assertThat(kv.usedBlocks()).isEqualTo(3);
        assertThat(kv.usage()).isEqualTo(0.3);

        kv.free(s);
        kv.free(s); // idempotent
        assertThat(kv.freeBlocks()).isEqualTo(10);
        assertThat(kv.blockTable(1)).isEmpty();
    }

    @Test
    void failedAllocationChangesNothing() {
        KvCacheManager kv = new KvCacheManager(4, 4, true);
        FakeSequence a = FakeSequence.counting(1, 0, 12).prefillIn(kv); // 3 blocks
        FakeSequence b = FakeSequence.counting(2, 100, 8);
        assertThat(kv.allocateSlots(b, 8)).isFalse();
        assertThat(kv.blockTable(2)).isEmpty();
        assertThat(kv.freeBlocks()).isEqualTo(1);
        assertThat(kv.prefixQueries()).isEqualTo(1);   // only a's
        a.computed = 12;
        assertThat(kv.allocateSlots(a, 5)).isFalse(); // would need 2 more
        assertThat(kv.blockTable(1)).hasSize(3);
    }

    @Test
    void secondSequenceWithTheSame200TokenPrefixSharesTwelveBlocks() {
        KvCacheManager kv = new KvCacheManager(64, 16, true);
        int[] prefix = IntStream.range(1000, 1200).toArray();
        FakeSequence a = new FakeSequence(1, prefix).prefillIn(kv);
        assertThat(kv.cachedBlocks()).isEqualTo(12); // the 13th block holds 8 tokens, not full

        FakeSequence b = new FakeSequence(2, concat(prefix, new int[] {7, 8, 9}));
        assertThat(kv.findCachedPrefixTokens(b)).isEqualTo(192);
        assertThat(kv.allocateSlots(b, b.numTokens() - 192)).isTrue();
        int[] ta = kv.blockTable(1);
        int[] tb = kv.blockTable(2);
        assertThat(Arrays.copyOf(tb, 12)).containsExactly(Arrays.copyOf(ta, 12));
        for (int i = 0; i < 12; i++) assertThat(kv.refCount(ta[i])).isEqualTo(2);
        assertThat(kv.refCount(ta[12])).isEqualTo(1);
        assertThat(tb).hasSize(13).doesNotContain(ta[12]);
        assertThat(kv.prefixHitTokens()).isEqualTo(192);
        assertThat(kv.prefixQueries()).isEqualTo(2);
        assertThat(kv.prefixQueryTokens()).isEqualTo(200 + 203);

        kv.free(a);
        for (int i = 0; i < 12; i++) assertThat(kv.refCount(ta[i])).isEqualTo(1);
        kv.free(b);
        assertThat(kv.freeBlocks()).isEqualTo(64);
        assertThat(kv.cachedBlocks()).as("free but still cached").isEqualTo(12);
    }

    @Test
    void aFullyCachedPromptStillLeavesItsLastBlockToCompute() {
        KvCacheManager kv = new KvCacheManager(8, 16, true);
        FakeSequence.counting(1, 0, 32).prefillIn(kv);
        assertThat(kv.findCachedPrefixTokens(FakeSequence.counting(2, 0, 32))).isEqualTo(16);
        assertThat(kv.findCachedPrefixTokens(FakeSequence.counting(3, 0, 33))).isEqualTo(32);
        assertThat(kv.findCachedPrefixTokens(FakeSequence.counting(4, 0, 16))).isZero();
    }

    @Test
    void prefixIsUsedAfterTheOwnerFinishedAndSurvivesUntilEvicted() {
        KvCacheManager kv = new KvCacheManager(4, 4, true);
        FakeSequence a = FakeSequence.counting(1, 0, 9).prefillIn(kv); // blocks 0,1 full, 2 partial
        kv.free(a);
        FakeSequence b = FakeSequence.counting(2, 0, 9);
        assertThat(kv.findCachedPrefixTokens(b)).isEqualTo(8);
        // d's 16 unrelated tokens need all 4 blocks: the cached ones go, least recently freed first
        FakeSequence d = FakeSequence.counting(3, 500, 16);
        assertThat(kv.allocateSlots(d, 16)).isTrue();
        assertThat(kv.evictions()).isEqualTo(2);
        assertThat(kv.cachedBlocks()).isZero();
        assertThat(kv.findCachedPrefixTokens(b)).isZero();
    }

    @Test
    void freeingReleasesTheSequenceTailFirst() {
        KvCacheManager kv = new KvCacheManager(6, 4, true);
        FakeSequence a = FakeSequence.counting(1, 0, 13).prefillIn(kv); // blocks 0..3
        kv.free(a);
        assertThat(kv.pool().freeQueue()).containsExactly(4, 5, 3, 2, 1, 0);
    }

    @Test
    void cachedFreeBlocksAreEvictedInLeastRecentlyUsedOrder() {
        KvCacheManager kv = new KvCacheManager(6, 4, true);
        FakeSequence a = FakeSequence.counting(1, 0, 9).prefillIn(kv);   // cached: 0, 1
        FakeSequence b = FakeSequence.counting(2, 50, 9).prefillIn(kv);  // cached: 3, 4
        kv.free(a);
        kv.free(b);
        // Touch a's prefix again (a newer user) so that b's blocks become the least recently used.
        FakeSequence a2 = FakeSequence.counting(3, 0, 9);
        assertThat(kv.allocateSlots(a2, 1)).isTrue();
        kv.free(a2);
        // Queue now: b's partial block, b's blocks (tail first), a's. 8 fresh tokens = 2 blocks: b's uncached
        // partial block, then b's second block, the least recently used cached one.
        assertThat(kv.pool().freeQueue()).containsExactly(5, 4, 3, 2, 1, 0);
        FakeSequence c = FakeSequence.counting(4, 900, 8);
        assertThat(kv.allocateSlots(c, 8)).isTrue();
        assertThat(kv.blockTable(4)).containsExactly(5, 4);
        assertThat(kv.evictions()).isEqualTo(1);
        assertThat(kv.findCachedPrefixTokens(FakeSequence.counting(5, 0, 9))).isEqualTo(8);
        assertThat(kv.findCachedPrefixTokens(FakeSequence.counting(6, 50, 9))).isEqualTo(4);
    }

    @Test
    void aSameHashWithOtherTokensIsNeverReused() {
        KvCacheManager kv = new KvCacheManager(8, 4, true, (parent, tokens) -> 42L); // everything collides
        FakeSequence.counting(1, 0, 5).prefillIn(kv);
        FakeSequence other = FakeSequence.counting(2, 10, 5);
        assertThat(kv.findCachedPrefixTokens(other)).isZero();
        assertThat(kv.allocateSlots(other, 5)).isTrue();
        assertThat(kv.blockTable(2)).doesNotContain(kv.blockTable(1));
    }

    @Test
    void aMatchingBlockUnderAnotherParentIsNeverReused() {
        // The hash ignores the parent, so [X, Y] and [Z, Y] give Y the same hash and the same tokens.
        KvCacheManager kv = new KvCacheManager(16, 4, true, (parent, tokens) -> Arrays.hashCode(tokens));
        int[] x = {1, 1, 1, 1};
        int[] y = {2, 2, 2, 2};
        int[] z = {3, 3, 3, 3};
        FakeSequence xy = new FakeSequence(1, concat(x, y, new int[] {9})).prefillIn(kv);
        FakeSequence zy = new FakeSequence(2, concat(z, y, new int[] {9})).prefillIn(kv);
        assertThat(kv.blockTable(2)[1]).isNotEqualTo(kv.blockTable(1)[1]);

        // zy's Y block (computed after Z) now owns Y's hash; an [X, Y] prompt must not get it.
        FakeSequence again = new FakeSequence(3, concat(x, y, new int[] {5}));
        assertThat(kv.findCachedPrefixTokens(again)).isEqualTo(4);
        assertThat(kv.findCachedPrefix(again).blockIds()).containsExactly(kv.blockTable(1)[0]);
        assertThat(zy.numTokens()).isEqualTo(xy.numTokens());
    }

    @Test
    void duplicateContentComputedTwiceKeepsOneCachedCopy() {
        KvCacheManager kv = new KvCacheManager(16, 4, true);
        FakeSequence a = FakeSequence.counting(1, 0, 9);
        FakeSequence b = FakeSequence.counting(2, 0, 9);
        assertThat(kv.allocateSlots(a, 9)).isTrue();
        assertThat(kv.allocateSlots(b, 9)).isTrue(); // admitted before a published anything
        a.computed = 9;
        b.computed = 9;
        kv.cacheFullBlocks(a);
        kv.cacheFullBlocks(b);
        assertThat(kv.cachedBlocks()).isEqualTo(2);
        int[] ta = kv.blockTable(1);
        assertThat(kv.findCachedPrefix(FakeSequence.counting(3, 0, 9)).blockIds()).containsExactly(ta[0], ta[1]);
    }

    @Test
    void aComputedCountWithoutBlocksIsRejected() {
        KvCacheManager kv = new KvCacheManager(4, 4, true);
        FakeSequence s = FakeSequence.counting(1, 0, 8);
        s.computed = 4;
        assertThatThrownBy(() -> kv.allocateSlots(s, 4)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void withoutPrefixCachingNothingIsShared() {
        KvCacheManager kv = new KvCacheManager(8, 4, false);
        FakeSequence.counting(1, 0, 9).prefillIn(kv);
        assertThat(kv.cachedBlocks()).isZero();
        assertThat(kv.findCachedPrefixTokens(FakeSequence.counting(2, 0, 9))).isZero();
        assertThat(kv.prefixQueries()).isZero();
    }

    @Test
    void sequencesOfDifferentSaltsNeverShareBlocksEvenWhenEveryHashCollides() {
        // 13 tokens (3 full blocks) with the standard hasher; 5 tokens (one block) where every hash is 42, since
        // there a chain's blocks push each other out of the index and only a first block can be found at all
        for (var hasher : java.util.List.of(BlockHasher.standard(), (BlockHasher) (parent, tokens) -> 42L)) {
            int length = hasher == BlockHasher.standard() ? 13 : 5, full = (length - 1) / 4 * 4;
            KvCacheManager kv = new KvCacheManager(32, 4, true, hasher);
            FakeSequence.counting(1, 0, length).salted(7).prefillIn(kv);
            assertThat(kv.findCachedPrefixTokens(FakeSequence.counting(2, 0, length))).as("base").isZero();
            assertThat(kv.findCachedPrefixTokens(FakeSequence.counting(3, 0, length).salted(8))).as("salt 8").isZero();
            assertThat(kv.findCachedPrefixTokens(FakeSequence.counting(4, 0, length).salted(7))).as("salt 7")
                    .isEqualTo(full);
            FakeSequence.counting(5, 0, length).prefillIn(kv); // the base publishes its own copy
            assertThat(kv.findCachedPrefixTokens(FakeSequence.counting(6, 0, length))).as("base").isEqualTo(full);
            assertThat(kv.findCachedPrefixTokens(FakeSequence.counting(7, 0, length).salted(8))).as("salt 8").isZero();
        }
    }
}
