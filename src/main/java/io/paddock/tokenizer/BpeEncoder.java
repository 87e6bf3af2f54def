package io.paddock.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * BPE over a normalized text: split into code points (user-defined pieces stay whole), merge the best
 * adjacent pair until none merges, then map what is left to ids with byte fallback.
 *
 * <p>Symbols form a doubly linked list over the text and candidate pairs sit in a priority queue, so a
 * text of n code points costs O(n log n); a candidate made stale by an earlier merge is recognised by
 * its recorded length and skipped. {@code NaiveBpe} in the tests is the O(n²) reference.
 */
final class BpeEncoder {
    private static final Comparator<Candidate> ORDER =
            Comparator.comparingInt(Candidate::priority).thenComparingInt(Candidate::left);

    private final Vocabulary vocab;
    private final MergeTable merges;
    private final List<String> userDefined; // longest first
    private final boolean byteFallback;
    private final boolean fuseUnk;

    /** A pair that may merge; {@code length} is the merged length in chars when it was queued. */
    private record Candidate(int priority, int left, int right, int length, int mergedId) {}

    BpeEncoder(Vocabulary vocab, MergeTable merges, boolean byteFallback, boolean fuseUnk) {
        this.vocab = vocab;
        this.merges = merges;
        this.byteFallback = byteFallback;
        this.fuseUnk = fuseUnk;
        var uds = new ArrayList<String>();
        for (int i = 0; i < vocab.size(); i++) if (vocab.type(i) == PieceType.USER_DEFINED) uds.add(vocab.piece(i));
        uds.sort(Comparator.comparingInt(String::length).reversed());
        this.userDefined = List.copyOf(uds);
    }

    /** Appends the ids of {@code text} (already normalized) to {@code out}. */
    void encode(String text, IntArrayBuilder out) {
        int len = text.length();
        if (len == 0) return;
        // Symbol i covers text[start[i], end[i]); a symbol merged into its left neighbour has end == start.
        int[] start = new int[len]; // (symbols)
        int[] end = new int[len]; // (symbols)
        int[] prev = new int[len]; // (symbols)
        int[] next = new int[len]; // (symbols)
        int[] id = new int[len]; // (symbols) piece id, -1 when the symbol is not a piece
        boolean[] frozen = new boolean[len]; // (symbols) user-defined pieces never merge
        int n = 0;
        for (int pos = 0; pos < len; n++) {
            String ud = userDefinedAt(text, pos);
            int stop = ud != null ? pos + ud.length() : pos + Character.charCount(text.codePointAt(pos));
            start[n] = pos;
            end[n] = stop;
            prev[n] = n - 1;
            next[n] = stop < len ? n + 1 : -1;
            frozen[n] = ud != null;
            id[n] = vocab.idOf(text.substring(pos, stop));
            pos = stop;
        }

        var queue = new PriorityQueue<Candidate>(Math.max(n, 1), ORDER);
        Map<Integer, String[]> unusedSplits = new HashMap<>();
        for (int i = 1; i < n; i++) offer(text, i - 1, i, start, end, id, frozen, queue, unusedSplits);

        Candidate c;
        while ((c = queue.poll()) != null) {
            int l = c.left();
            int r = c.right();
            int leftLen = end[l] - start[l];
            int rightLen = end[r] - start[r];
            // Stale: one side was merged away, or grew (symbols only ever grow by absorbing to the right).
            if (leftLen == 0 || rightLen == 0 || leftLen + rightLen != c.length()) continue;
            end[l] = end[r];
            id[l] = c.mergedId();
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            end[r] = start[r];
            if (prev[l] >= 0) offer(text, prev[l], l, start, end, id, frozen, queue, unusedSplits);
            if (next[l] >= 0) offer(text, l, next[l], start, end, id, frozen, queue, unusedSplits);
        }

        boolean[] lastUnk = {false};
        for (int i = 0; i >= 0; i = next[i]) {
            emit(text.substring(start[i], end[i]), id[i], unusedSplits, out, lastUnk);
        }
    }

    private void offer(String text, int l, int r, int[] start, int[] end, int[] id, boolean[] frozen,
                       PriorityQueue<Candidate> queue, Map<Integer, String[]> unusedSplits) {
        if (frozen[l] || frozen[r]) return;
        long m = merges.find(text, start[l], end[l], end[r], id[l], id[r]);
        if (m == MergeTable.NONE) return;
        int merged = MergeTable.mergedId(m);
        queue.add(new Candidate(MergeTable.priority(m), l, r, end[r] - start[l], merged));
        if (vocab.type(merged) == PieceType.UNUSED) {
            // SentencePiece may merge through an unused piece but never emits one: it remembers the
            // last split it saw and re-segments the piece into those halves at the end.
            unusedSplits.put(merged, new String[] {text.substring(start[l], end[l]), text.substring(end[l], end[r])});
        }
    }

    private void emit(String symbol, int id, Map<Integer, String[]> unusedSplits, IntArrayBuilder out, boolean[] lastUnk) {
        if (id >= 0 && vocab.type(id) == PieceType.UNUSED) {
            String[] halves = unusedSplits.get(id);
            if (halves != null) {
                emit(halves[0], vocab.idOf(halves[0]), unusedSplits, out, lastUnk);
                emit(halves[1], vocab.idOf(halves[1]), unusedSplits, out, lastUnk);
                return;
            }
        }
        if (id >= 0 && id != vocab.unkId()) {
            out.add(id);
            lastUnk[0] = false;
            return;
        }
        if (byteFallback) {
            for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                int bid = vocab.byteId(b & 0xFF);
                out.add(bid >= 0 ? bid : vocab.unkId());
            }
            lastUnk[0] = false;
        } else if (!(fuseUnk && lastUnk[0])) {
            out.add(vocab.unkId());
            lastUnk[0] = true;
        }
    }

    private String userDefinedAt(String text, int pos) {
        for (String ud : userDefined) if (text.startsWith(ud, pos)) return ud;
        return null;
    }
}
