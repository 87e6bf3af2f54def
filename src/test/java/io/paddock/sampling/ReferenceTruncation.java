package io.paddock.sampling;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/**
 * Plain reference for {@link Candidates}: full sorts, boxed lists, no thresholds or heaps. Same tie rule and the
 * same float arithmetic for the weights, so the kept sets must match exactly.
 */
final class ReferenceTruncation {
    private ReferenceTruncation() {}

    record Cand(int id, float value) {}

    /** The ids kept by top-k → softmax(T) → top-p → min-p. */
    static TreeSet<Integer> kept(float[] logits, float temperature, int topK, float topP, float minP) {
        List<Cand> cands = new ArrayList<>();
        for (int id = 0; id < logits.length; id++) if (Float.isFinite(logits[id])) cands.add(new Cand(id, logits[id]));
        if (topK > 0 && topK < cands.size()) {
            List<Cand> sorted = new ArrayList<>(cands);
            sorted.sort(Comparator.comparing(Cand::value).reversed());
            float kth = sorted.get(topK - 1).value();
            cands.removeIf(c -> c.value() < kth);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (Cand c : cands) max = Math.max(max, c.value());
        float invT = 1f / temperature;
        List<Cand> weights = new ArrayList<>();
        for (Cand c : cands) weights.add(new Cand(c.id(), (float) Math.exp((c.value() - max) * invT)));
        if (topP < 1f) {
            double mass = 0;
            for (Cand c : weights) mass += c.value();
            double target = topP * mass;
            weights.sort(Comparator.comparing(Cand::value).reversed().thenComparing(Cand::id));
            List<Cand> keep = new ArrayList<>();
            double cum = 0;
            for (Cand c : weights) {
                if (cum >= target && c.value() != keep.getLast().value()) break;
                keep.add(c);
                cum += c.value();
            }
            weights = keep;
        }
        if (minP > 0f) {
            float maxW = 0f;
            for (Cand c : weights) maxW = Math.max(maxW, c.value());
            float threshold = minP * maxW;
            weights.removeIf(c -> c.value() < threshold);
        }
        TreeSet<Integer> ids = new TreeSet<>();
        for (Cand c : weights) ids.add(c.id());
        return ids;
    }
}
