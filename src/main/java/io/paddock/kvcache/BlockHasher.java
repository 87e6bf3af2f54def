package io.paddock.kvcache;

/**
 * Hash of one full block, chained through its parent so that equal hashes mean (with overwhelming probability)
 * an equal prefix. A match is never trusted on the hash alone: the pool also compares the token ids and the
 * parent block, so a weak or injected hasher can cost hit rate but never correctness.
 */
@FunctionalInterface
public interface BlockHasher {

    /** Parent hash of the first block of every sequence. */
    long ROOT_HASH = 0x243F6A8885A308D3L;

    long hash(long parentHash, int[] blockTokens);

    /**
     * Parent hash of the first block of a sequence with cache salt {@code salt} ({@link KvSequence#cacheSalt}); the
     * pool also keys the first block by the salt itself, so salts never share blocks even when hashes collide.
     */
    static long rootHash(long salt) {
        return salt == 0 ? ROOT_HASH : mix64(ROOT_HASH, new int[] {(int) salt, (int) (salt >>> 32)});
    }

    /** The parent serial the pool records for the first block of a sequence with {@code salt} (block serials are > 0). */
    static long rootSerial(long salt) {
        if (salt < 0) throw new IllegalArgumentException("cache salt must be >= 0, got " + salt);
        return -salt;
    }

    /** 64-bit hash: an xxHash64-style multiply-rotate round per token, then the murmur3 finaliser. */
    static BlockHasher standard() {
        return BlockHasher::mix64;
    }

    private static long mix64(long parentHash, int[] tokens) {
        final long p1 = 0x9E3779B185EBCA87L;
        final long p2 = 0xC2B2AE3D27D4EB4FL;
        long acc = parentHash * p1 + tokens.length;
        for (int t : tokens) {
            acc ^= (t & 0xFFFF_FFFFL) * p2;
            acc = Long.rotateLeft(acc, 31) * p1;
        }
        acc ^= acc >>> 33;
        acc *= 0xFF51AFD7ED558CCDL;
        acc ^= acc >>> 33;
        acc *= 0xC4CEB9FE1A85EC53L;
        return acc ^ (acc >>> 33);
    }
}
