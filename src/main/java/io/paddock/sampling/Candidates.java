package io.paddock.sampling;

import java.util.Arrays;

/**
 * The candidate set of one sampling step and the truncations applied to it: top-k, softmax with temperature,
 * top-p, min-p, then a draw from the renormalised remainder.
 *
 * <p>Buffers are sized to the vocabulary once and reused for every token of a request; a step allocates nothing
 * (apart from what {@link Arrays#sort(long[], int, int)} may use internally for top-p).
 *
 * <p>Tie rule, shared by top-k and top-p: tokens with exactly the same logit are treated alike, so a tie at the
 * cut-off keeps every tied token (HF's {@code TopKLogitsWarper} and vLLM do the same for top-k). The kept set may
 * therefore be larger than k, or than the minimal nucleus, but never depends on token ids.
 *
 * <p>Non-finite logits ({@code -inf}, NaN) are never candidates.
 */
final class Candidates {
    private final int[] ids;      // (vocab) candidate token ids; [0, size) are valid
    private final float[] values; // (vocab) logits after gather, unnormalised probabilities after softmax()
    private long[] keys;          // (vocab) top-p sort keys, allocated on first use
    private float[] heap;         // (k) top-k min-heap of logits, allocated on first use
    private double[] bucketMass;  // (BUCKETS) top-p mass histogram, allocated on first use
    private final ExpKernel exp;
    private int size;
    private double mass;          // sum of values[0, size) once they are weights

    Candidates(int vocabSize, ExpKernel exp) {
        ids = new int[vocabSize];
        values = new float[vocabSize];
        this.exp = exp;
    }

    int size() { return size; }
    int id(int i) { return ids[i]; }
    /** Unnormalised probability of candidate i (after {@link #softmax(float)}). */
    float weight(int i) { return values[i]; }
    double mass() { return mass; }

    /** Every finite logit becomes a candidate, in id order. */
    void gatherAll(float[] logits) {
        int n = 0;
        for (int id = 0; id < logits.length; id++) {
            float v = logits[id];
            if (v > Float.NEGATIVE_INFINITY && v < Float.POSITIVE_INFINITY) { ids[n] = id; values[n++] = v; }
        }
        size = n;
        requireNonEmpty();
    }

    /**
     * Keeps the k largest finite logits plus any tied with the k-th, in id order. A size-k min-heap finds the
     * k-th largest value in O(V log k) without sorting the vocabulary.
     */
    void gatherTopK(float[] logits, int k) {
        if (k >= logits.length) { gatherAll(logits); return; }
        if (heap == null || heap.length < k) heap = new float[k];
        float[] h = heap;
        int filled = 0;
        for (float v : logits) { // hot loop: most values fail the first comparison once the heap is full
            if (!(v > Float.NEGATIVE_INFINITY && v < Float.POSITIVE_INFINITY)) continue;
            if (filled < k) {
                siftUp(h, filled++, v);
            } else if (v > h[0]) {
                siftDown(h, k, v);
            }
        }
        float threshold = filled < k ? Float.NEGATIVE_INFINITY : h[0];
        int n = 0;
        for (int id = 0; id < logits.length; id++) {
            float v = logits[id];
            if (v >= threshold && v > Float.NEGATIVE_INFINITY && v < Float.POSITIVE_INFINITY) { ids[n] = id; values[n++] = v; }
        }
        size = n;
        requireNonEmpty();
    }

    /** Turns candidate logits into unnormalised probabilities exp((l - max) / T); the top candidate gets 1. */
    void softmax(float temperature) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < size; i++) if (values[i] > max) max = values[i];
        mass = exp.expInPlace(values, size, max, 1f / temperature);
    }

    /**
     * Nucleus truncation: keeps the most likely candidates until their mass reaches {@code p} of the total
     * (the candidate that crosses the line is kept), plus ties with the last one kept. Afterwards candidates are
     * in descending probability order (ties: lower id first).
     *
     * <p>Only the candidates that can be in the nucleus are sorted: a histogram of mass by the weights' top bits
     * (exponent + 4 mantissa bits, so buckets span at most a factor 1.07) finds a threshold whose bucket crosses
     * the target mass; everything above it (and the next non-empty bucket) is sorted, a set only slightly larger
     * than the nucleus. Ties share a bucket, so they are never split.
     */
    void topP(float p) {
        if (p >= 1f || size <= 1) return;
        double target = p * mass;
        if (bucketMass == null) bucketMass = new double[BUCKETS];
        double[] hist = bucketMass;
        Arrays.fill(hist, 0.0);
        for (int i = 0; i < size; i++) hist[bucket(values[i])] += values[i];
        int b = BUCKETS - 1;
        for (double cum = 0; b > 0; b--) {
            cum += hist[b];
            if (cum >= target) break;
        }
        // One more non-empty bucket, so that summing in a different order below cannot fall short of target.
        if (b > 0) {
            b--;
            while (b > 0 && hist[b] == 0) b--;
        }
        float tau = Float.intBitsToFloat(b << BUCKET_SHIFT);
        int gathered = 0;
        for (int i = 0; i < size; i++) { // partition: candidates with weight >= tau move to the front
            float w = values[i];
            if (w >= tau) {
                int id = ids[i];
                ids[i] = ids[gathered];
                values[i] = values[gathered];
                ids[gathered] = id;
                values[gathered++] = w;
            }
        }
        if (keys == null) keys = new long[ids.length];
        for (int i = 0; i < gathered; i++) keys[i] = sortKey(values[i], ids[i]);
        Arrays.sort(keys, 0, gathered);
        int kept = 0;
        double cum = 0;
        float last = Float.NaN;
        for (int j = gathered - 1; j >= 0; j--) {
            float w = keyWeight(keys[j]);
            if (cum >= target && w != last) break;
            ids[kept] = keyId(keys[j]);
            values[kept++] = w;
            cum += w;
            last = w;
        }
        size = kept;
        mass = cum;
    }

    /** Drops candidates whose probability is below {@code p} times the largest one; order is preserved. */
    void minP(float p) {
        if (p <= 0f) return;
        float max = 0f;
        for (int i = 0; i < size; i++) max = Math.max(max, values[i]);
        float threshold = p * max;
        int n = 0;
        double sum = 0;
        for (int i = 0; i < size; i++) {
            float w = values[i];
            if (w >= threshold) { ids[n] = ids[i]; values[n++] = w; sum += w; }
        }
        size = n;
        mass = sum;
    }

    /** Draws a candidate with probability weight / mass, given a uniform {@code u} in [0, 1). */
    int draw(double u) {
        double target = u * mass;
        double cum = 0;
        for (int i = 0; i < size; i++) {
            cum += values[i];
            if (target < cum) return ids[i];
        }
        // Rounding left target at or above the running sum: take the last candidate that has any weight.
        for (int i = size - 1; i >= 0; i--) if (values[i] > 0f) return ids[i];
        return ids[0];
    }

    // Weights lie in [0, 1]: bits 0 .. 0x3F800000, so bits >>> 19 (sign, exponent, 4 mantissa bits) < 2033.
    private static final int BUCKET_SHIFT = 19;
    private static final int BUCKETS = (Float.floatToRawIntBits(1f) >>> BUCKET_SHIFT) + 1;

    private static int bucket(float w) { return Float.floatToRawIntBits(w) >>> BUCKET_SHIFT; }

    // Weights are non-negative floats, whose bit patterns sort like the values; the low word sorts lower ids
    // last so that reading keys from the top gives (weight desc, id asc).
    static long sortKey(float w, int id) {
        return ((long) Float.floatToRawIntBits(w) << 32) | (~id & 0xFFFFFFFFL);
    }

    static float keyWeight(long key) { return Float.intBitsToFloat((int) (key >>> 32)); }

    static int keyId(long key) { return ~(int) key; }

    private void requireNonEmpty() {
        if (size == 0) throw new IllegalArgumentException("no finite logit to sample from");
    }

    private static void siftUp(float[] h, int i, float v) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (h[parent] <= v) break;
            h[i] = h[parent];
            i = parent;
        }
        h[i] = v;
    }

    /** Replaces the root (the smallest) with v and restores the heap. */
    private static void siftDown(float[] h, int n, float v) {
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && h[child + 1] < h[child]) child++;
            if (h[child] >= v) break;
            h[i] = h[child];
            i = child;
        }
        h[i] = v;
    }
}
