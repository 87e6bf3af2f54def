package io.paddock.structured;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Token masks of one grammar on one vocabulary, per (state, leading-space rule in force), least recently used
 * first out. Thread-safe: constraints of one grammar may run on the engine thread while another request compiles.
 */
final class MaskCache {
    /** Masks kept per grammar and vocabulary: 256 masks of a 32000-token vocabulary take 1 MiB. */
    static final int DEFAULT_CAPACITY = 256;

    /** A cache key: the grammar state, and whether the next text piece loses its leading space. */
    record Key(GrammarState state, boolean strip) {}

    private final Map<Key, long[]> map;

    MaskCache(int capacity) {
        this.map = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, long[]> eldest) {
                return size() > capacity;
            }
        };
    }

    synchronized long[] get(Key key) {
        return map.get(key);
    }

    synchronized void put(Key key, long[] mask) {
        map.put(key, mask);
    }

    synchronized int size() {
        return map.size();
    }
}
