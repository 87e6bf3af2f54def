package io.paddock.tokenizer;

import java.util.Map;

/**
 * Which adjacent symbol pairs BPE may merge and in what order. SentencePiece's {@code .model} ranks a
 * merge by the score of the merged piece (higher first); Hugging Face's {@code tokenizer.json} ranks it by
 * the position of the pair in its merge list (earlier first). Both come out as a priority where the
 * smaller value merges first; ties go to the leftmost pair.
 */
sealed interface MergeTable permits MergeTable.ByScore, MergeTable.ByRank {

    /** No merge for this pair. */
    long NONE = Long.MAX_VALUE;

    /**
     * The merge of the symbol {@code text[start, mid)} (id {@code leftId}, -1 if none) with
     * {@code text[mid, end)} (id {@code rightId}), packed by {@link #pack}, or {@link #NONE}.
     */
    long find(String text, int start, int mid, int end, int leftId, int rightId);

    static long pack(int priority, int mergedId) {
        return ((long) priority << 32) | (mergedId & 0xFFFF_FFFFL);
    }

    static int priority(long merge) {
        return (int) (merge >> 32);
    }

    static int mergedId(long merge) {
        return (int) merge;
    }

    /** SentencePiece's score-based BPE: any adjacent pair whose concatenation is a mergeable piece. */
    record ByScore(Vocabulary vocab) implements MergeTable {
        @Override
        public long find(String text, int start, int mid, int end, int leftId, int rightId) {
            int id = vocab.idOf(text.substring(start, end));
            if (id < 0 || !vocab.type(id).mergeable()) return NONE;
            return pack(~sortableBits(vocab.score(id)), id);
        }

        // An int that orders like the float (IEEE bits with the magnitude flipped for negatives);
        // its complement makes the highest score the smallest priority.
        private static int sortableBits(float f) {
            int bits = Float.floatToIntBits(f == 0f ? 0f : f);
            return bits >= 0 ? bits : bits ^ 0x7FFF_FFFF;
        }
    }

    /**
     * Hugging Face's rank-based BPE.
     *
     * @param merges key {@code (leftId << 32) | rightId}, value {@link #pack}(rank, mergedId)
     */
    record ByRank(Map<Long, Long> merges) implements MergeTable {
        static long key(int leftId, int rightId) {
            return ((long) leftId << 32) | (rightId & 0xFFFF_FFFFL);
        }

        @Override
        public long find(String text, int start, int mid, int end, int leftId, int rightId) {
            if (leftId < 0 || rightId < 0) return NONE;
            Long m = merges.get(key(leftId, rightId));
            return m == null ? NONE : m;
        }
    }
}
