package io.paddock.kvcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BlockPoolTests {

    private static int[] block(int... ids) { return ids; }

    @Test
    void allocatesEveryBlockOnceInIdOrder() {
        BlockPool pool = new BlockPool(8, 4);
        Set<Integer> handedOut = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            int b = pool.allocate();
            assertThat(b).isEqualTo(i);
            assertThat(handedOut.add(b)).as("block %d handed out twice", b).isTrue();
            assertThat(pool.refCount(b)).isEqualTo(1);
        }
        assertThat(pool.freeBlocks()).isZero();
        assertThatThrownBy(pool::allocate).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void freedBlocksJoinTheTailAndAreReusedFromTheHead() {
        BlockPool pool = new BlockPool(4, 2);
        for (int i = 0; i < 4; i++) pool.allocate();
        pool.release(2);
        pool.release(0);
        assertThat(pool.freeQueue()).containsExactly(2, 0);
        assertThat(pool.allocate()).isEqualTo(2);
        assertThat(pool.allocate()).isEqualTo(0);
    }

    @Test
    void sharedBlockIsFreeOnlyAfterTheLastRelease() {
        BlockPool pool = new BlockPool(2, 2);
        int b = pool.allocate();
        pool.register(b, 11L, 0, block(1, 2));
        pool.retain(b);
        assertThat(pool.refCount(b)).isEqualTo(2);
        pool.release(b);
        assertThat(pool.freeBlocks()).isEqualTo(1);
        pool.release(b);
        assertThat(pool.freeBlocks()).isEqualTo(2);
        assertThatThrownBy(() -> pool.release(b)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void cachedFreeBlocksAreEvictedLeastRecentlyFreedFirstAndLoseTheirHash() {
        BlockPool pool = new BlockPool(4, 2);
        for (int b = 0; b < 4; b++) {
            assertThat(pool.allocate()).isEqualTo(b);
            pool.register(b, 100L + b, 0, block(b, b));
        }
        for (int b : new int[] {2, 0, 3, 1}) pool.release(b);
        assertThat(pool.cachedBlocks()).isEqualTo(4);
        assertThat(pool.freeQueue()).containsExactly(2, 0, 3, 1);

        assertThat(pool.allocate()).isEqualTo(2);
        assertThat(pool.isCached(2)).isFalse();
        assertThat(pool.lookup(102L, 0, block(2, 2))).isEqualTo(-1);
        assertThat(pool.lookup(100L, 0, block(0, 0))).isEqualTo(0); // the others keep theirs
        assertThat(pool.allocate()).isEqualTo(0);
        assertThat(pool.evictions()).isEqualTo(2);
        assertThat(pool.cachedBlocks()).isEqualTo(2);
    }

    @Test
    void reusingACachedFreeBlockTakesItFromTheMiddleOfTheQueue() {
        BlockPool pool = new BlockPool(3, 2);
        for (int b = 0; b < 3; b++) {
            pool.allocate();
            pool.register(b, 200L + b, 0, block(b, 1));
            pool.release(b);
        }
        pool.retain(1);
        assertThat(pool.freeQueue()).containsExactly(0, 2);
        assertThat(pool.refCount(1)).isEqualTo(1);
        assertThat(pool.isCached(1)).isTrue();
        assertThat(pool.evictions()).isZero();
    }

    @Test
    void aFreeUncachedBlockCannotBeRetained() {
        BlockPool pool = new BlockPool(2, 2);
        assertThatThrownBy(() -> pool.retain(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void lookupChecksTokensAndParentNotJustTheHash() {
        BlockPool pool = new BlockPool(4, 2);
        int parent = pool.allocate();
        pool.register(parent, 1L, 0, block(9, 9));
        int b = pool.allocate();
        pool.register(b, 7L, pool.serial(parent), block(1, 2));

        assertThat(pool.lookup(7L, pool.serial(parent), block(1, 2))).isEqualTo(b);
        assertThat(pool.lookup(7L, pool.serial(parent), block(1, 3))).as("same hash, other tokens").isEqualTo(-1);
        assertThat(pool.lookup(7L, 0, block(1, 2))).as("same hash and tokens, other parent").isEqualTo(-1);
    }

    @Test
    void aCollidingRegistrationTakesOverTheIndexEntry() {
        BlockPool pool = new BlockPool(2, 2);
        int a = pool.allocate();
        int b = pool.allocate();
        pool.register(a, 5L, 0, block(1, 1));
        pool.register(b, 5L, 0, block(2, 2));
        assertThat(pool.isCached(a)).isFalse();
        assertThat(pool.refCount(a)).as("still held by its owner").isEqualTo(1);
        assertThat(pool.lookup(5L, 0, block(2, 2))).isEqualTo(b);
        assertThat(pool.lookup(5L, 0, block(1, 1))).isEqualTo(-1);
        assertThat(pool.cachedBlocks()).isEqualTo(1);
    }

    @Test
    void serialsAreNeverReused() {
        BlockPool pool = new BlockPool(1, 1);
        int b = pool.allocate();
        pool.register(b, 3L, 0, block(4));
        long first = pool.serial(b);
        pool.release(b);
        assertThat(pool.allocate()).isEqualTo(b); // evicts
        pool.register(b, 3L, 0, block(4));
        assertThat(pool.serial(b)).isNotEqualTo(first).isNotZero();
    }
}
