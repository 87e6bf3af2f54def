package io.paddock.structured;

import io.paddock.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * A tokenizer's vocabulary as a trie of the tokens' UTF-8 bytes, for computing token masks by walking a grammar
 * state down the trie. Control pieces and tokens without bytes are left out: a grammar never allows them. Built
 * once per tokenizer ({@link #of}; it does not keep the tokenizer itself reachable), immutable and thread-safe;
 * it also holds the mask caches of the grammars used with it, each dropped once its grammar is unreachable.
 */
public final class TokenIndex {
    private static final Map<Tokenizer, TokenIndex> INDEXES = Collections.synchronizedMap(new WeakHashMap<>());
    private static final String SPACE = "\u2581";

    private final int vocabSize;
    private final Tokenizer.LeadingSpace leadingSpace;
    // Trie, node 0 the root: children of node n are childByte/childNode[childStart[n] .. childStart[n + 1]),
    // tokens ending at n are tokenIds[tokenStart[n] .. tokenStart[n + 1]).
    final int[] childStart;
    final byte[] childByte;
    final int[] childNode;
    final int[] tokenStart;
    final int[] tokenIds;
    /** Per token: its bytes (null where left out of the trie). */
    private final byte[][] bytes;
    /** Per token: a byte-fallback piece. */
    private final boolean[] isByte;
    /** Per token: a text piece that starts with "▁", which decoding may strip at the start of the text. */
    private final boolean[] strippable;
    private final Map<Grammar, MaskCache> caches = Collections.synchronizedMap(new WeakHashMap<>());

    private TokenIndex(Tokenizer t) {
        this.vocabSize = t.vocabSize();
        this.leadingSpace = t.leadingSpace();
        this.bytes = new byte[vocabSize][];
        this.isByte = new boolean[vocabSize];
        this.strippable = new boolean[vocabSize];
        // Build with growable per-node lists, then flatten.
        List<int[]> kids = new ArrayList<>(); // per node: pairs (byte, child) packed as byte << 24 | child
        List<int[]> toks = new ArrayList<>();
        int[] kidCount = new int[1024];
        int[] tokCount = new int[1024];
        kids.add(new int[2]);
        toks.add(new int[1]);
        for (int id = 0; id < vocabSize; id++) {
            if (t.isControl(id)) continue;
            byte[] b = t.pieceBytes(id);
            if (b.length == 0) continue;
            bytes[id] = b;
            isByte[id] = t.isByte(id);
            strippable[id] = !isByte[id] && b[0] == ' ' && t.piece(id).startsWith(SPACE);
            int node = 0;
            for (byte x : b) {
                int[] k = kids.get(node);
                int n = kidCount[node];
                int child = -1;
                for (int i = 0; i < n; i++) {
                    if ((k[i] >>> 24) == (x & 0xFF)) {
                        child = k[i] & 0xFFFFFF;
                        break;
                    }
                }
                if (child < 0) {
                    child = kids.size();
                    kids.add(new int[2]);
                    toks.add(new int[1]);
                    if (child >= kidCount.length) {
                        kidCount = Arrays.copyOf(kidCount, child * 2);
                        tokCount = Arrays.copyOf(tokCount, child * 2);
                    }
                    if (n == k.length) kids.set(node, k = Arrays.copyOf(k, n * 2));
                    k[n] = (x & 0xFF) << 24 | child;
                    kidCount[node] = n + 1;
                }
                node = child;
            }
            int[] tk = toks.get(node);
            if (tokCount[node] == tk.length) toks.set(node, tk = Arrays.copyOf(tk, tk.length * 2));
            tk[tokCount[node]++] = id;
        }
        int nodes = kids.size();
        childStart = new int[nodes + 1];
        tokenStart = new int[nodes + 1];
        int edges = 0;
        int ends = 0;
        for (int n = 0; n < nodes; n++) {
            edges += kidCount[n];
            ends += tokCount[n];
        }
        childByte = new byte[edges];
        childNode = new int[edges];
        tokenIds = new int[ends];
        int e = 0;
        int te = 0;
        for (int n = 0; n < nodes; n++) {
            childStart[n] = e;
            int[] k = Arrays.copyOf(kids.get(n), kidCount[n]);
            Arrays.sort(k); // by byte: a deterministic walk
            for (int packed : k) {
                childByte[e] = (byte) (packed >>> 24);
                childNode[e++] = packed & 0xFFFFFF;
            }
            tokenStart[n] = te;
            System.arraycopy(toks.get(n), 0, tokenIds, te, tokCount[n]);
            te += tokCount[n];
        }
        childStart[nodes] = e;
        tokenStart[nodes] = te;
    }

    /** The index of {@code tokenizer}, built on first use and kept while the tokenizer is reachable. */
    public static TokenIndex of(Tokenizer tokenizer) {
        synchronized (INDEXES) {
            return INDEXES.computeIfAbsent(tokenizer, TokenIndex::new);
        }
    }

    /** The tokenizer's vocabulary size: ids at or above it are never allowed. */
    public int vocabSize() {
        return vocabSize;
    }

    /** Trie nodes, the root included. */
    public int nodeCount() {
        return childStart.length - 1;
    }

    Tokenizer.LeadingSpace leadingSpace() {
        return leadingSpace;
    }

    /** The token's bytes, or null for a token a grammar never allows (control, empty, out of range). */
    byte[] bytes(int id) {
        return id >= 0 && id < vocabSize ? bytes[id] : null;
    }

    boolean isByte(int id) {
        return isByte[id];
    }

    boolean strippable(int id) {
        return strippable[id];
    }

    /** The node under the root reached by {@code b}, or -1. */
    int rootChild(int b) {
        for (int e = childStart[0]; e < childStart[1]; e++) if ((childByte[e] & 0xFF) == b) return childNode[e];
        return -1;
    }

    /** The mask cache shared by every constraint of {@code grammar} on this vocabulary. */
    MaskCache cacheFor(Grammar grammar) {
        synchronized (caches) {
            return caches.computeIfAbsent(grammar, g -> new MaskCache(MaskCache.DEFAULT_CAPACITY));
        }
    }
}
