package io.paddock.sampling;

/**
 * Log-probabilities for the OpenAI {@code logprobs} / {@code top_logprobs} fields, taken from the log-softmax of
 * the logits after bias and penalties but before temperature and truncation: they describe the distribution the
 * request's penalties define, independent of how it was then sharpened or cut for the draw.
 */
final class Logprobs {
    private final int[] topIds;      // (n) scratch: best ids so far, best first
    private final float[] topValues; // (n) their logits
    private final ExpKernel exp;

    Logprobs(int maxTop, ExpKernel exp) {
        topIds = new int[maxTop];
        topValues = new float[maxTop];
        this.exp = exp;
    }

    /** log(sum(exp(logits))) over the finite logits, computed around the maximum for stability. */
    double logSumExp(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) if (v > max && v < Float.POSITIVE_INFINITY) max = v;
        if (max == Float.NEGATIVE_INFINITY) return Double.NEGATIVE_INFINITY;
        return max + Math.log(exp.sumExp(logits, max));
    }

    /** The chosen token's logprob plus the {@code n} most likely tokens (ties: lower id first). */
    Sample sample(float[] logits, int token, int n) {
        double lse = logSumExp(logits);
        int filled = 0;
        // Insertion into a short sorted list: with n <= 20 almost every logit fails the first comparison.
        for (int id = 0; id < logits.length && n > 0; id++) {
            float v = logits[id];
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) continue;
            if (filled == n && !(v > topValues[n - 1])) continue;
            int pos = filled < n ? filled++ : n - 1;
            while (pos > 0 && topValues[pos - 1] < v) {
                topValues[pos] = topValues[pos - 1];
                topIds[pos] = topIds[pos - 1];
                pos--;
            }
            topValues[pos] = v;
            topIds[pos] = id;
        }
        int[] ids = new int[filled];
        float[] lps = new float[filled];
        for (int i = 0; i < filled; i++) {
            ids[i] = topIds[i];
            lps[i] = (float) (topValues[i] - lse);
        }
        return new Sample(token, (float) (logits[token] - lse), ids, lps);
    }
}
