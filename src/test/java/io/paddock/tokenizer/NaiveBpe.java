package io.paddock.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The plain reference for {@link BpeEncoder}: rescan every adjacent pair, merge the best one
 * (smallest priority, leftmost on ties), repeat. O(n²) per text, so only for tests. Covers NORMAL,
 * CONTROL, UNKNOWN and BYTE pieces (no user-defined or unused pieces), which is what LLaMA vocabularies hold.
 */
final class NaiveBpe {
    private NaiveBpe() {}

    static int[] encode(SentencePieceTokenizer t, String text) {
        Vocabulary v = t.vocabulary();
        MergeTable merges = t.merges();
        String s = t.normalizer().normalize(text);
        List<int[]> spans = new ArrayList<>(); // (start, end, id)
        for (int i = 0; i < s.length(); ) {
            int j = i + Character.charCount(s.codePointAt(i));
            spans.add(new int[] {i, j, v.idOf(s.substring(i, j))});
            i = j;
        }
        while (true) {
            int best = -1;
            long bestMerge = MergeTable.NONE;
            for (int i = 0; i + 1 < spans.size(); i++) {
                int[] a = spans.get(i);
                int[] b = spans.get(i + 1);
                long m = merges.find(s, a[0], a[1], b[1], a[2], b[2]);
                if (m != MergeTable.NONE && (best < 0 || MergeTable.priority(m) < MergeTable.priority(bestMerge))) {
                    best = i;
                    bestMerge = m;
                }
            }
            if (best < 0) break;
            int[] b = spans.remove(best + 1);
            int[] a = spans.get(best);
            a[1] = b[1];
            a[2] = MergeTable.mergedId(bestMerge);
        }
        List<Integer> out = new ArrayList<>();
        for (int[] sp : spans) {
            if (sp[2] >= 0 && sp[2] != v.unkId()) {
                out.add(sp[2]);
            } else if (t.byteFallback()) {
                for (byte x : s.substring(sp[0], sp[1]).getBytes(StandardCharsets.UTF_8)) out.add(v.byteId(x & 0xFF));
            } else {
                out.add(v.unkId());
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
