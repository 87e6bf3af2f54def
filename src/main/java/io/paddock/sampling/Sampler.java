package io.paddock.sampling;

import java.util.SplittableRandom;

/**
 * Chooses next tokens for one request (one sequence). Holds the request's RNG, its token history for the
 * penalties and reusable scratch buffers, so it is cheap per token and not thread-safe.
 *
 * <p>Order of operations per token: logit bias → repetition penalty → presence/frequency penalties →
 * (greedy: argmax, ties → lowest id) → temperature → top-k → softmax → top-p → min-p → renormalise → draw.
 * Top-k is found on raw logits, which is equivalent to applying it after temperature (T > 0 preserves order).
 *
 * <p>Reproducibility: a seeded sampler consumes exactly one {@code nextDouble()} per non-greedy token, so the same
 * seed and the same sequence of logits yield the same tokens.
 */
public final class Sampler {
    private final SamplingParams params;
    private final int vocabSize;
    private final long seed;
    private final SplittableRandom rng;
    private final Penalties penalties;
    private final ExpKernel exp;
    private Candidates candidates; // created on the first non-greedy draw
    private Logprobs logprobs;     // created on the first logprobs request

    public Sampler(SamplingParams params, int vocabSize) {
        this(params, vocabSize, ExpKernel.best());
    }

    Sampler(SamplingParams params, int vocabSize, ExpKernel exp) {
        this.exp = exp;
        this.params = params.validate(vocabSize);
        this.vocabSize = vocabSize;
        this.seed = params.seed() != null ? params.seed() : new SplittableRandom().nextLong();
        this.rng = new SplittableRandom(seed);
        this.penalties = new Penalties(params, vocabSize);
    }

    public SamplingParams params() { return params; }

    /** The seed in use: the requested one, or the random one chosen for an unseeded request. */
    public long seed() { return seed; }

    /** Records prompt tokens; only the repetition penalty looks at them. */
    public void acceptPrompt(int[] promptIds) {
        for (int id : promptIds) penalties.acceptPrompt(id);
    }

    /** Chooses the next token from logits (length vocabSize; modified in place). Records it as generated. */
    public int sample(float[] logits) {
        int token = choose(logits);
        penalties.acceptGenerated(token);
        return token;
    }

    /** Same as {@link #sample(float[])}, plus logprob information when {@code params.logprobs() >= 0}. */
    public Sample sampleWithLogprobs(float[] logits) {
        int token = choose(logits);
        penalties.acceptGenerated(token);
        int n = params.logprobs();
        if (n < 0) return Sample.of(token);
        if (logprobs == null) logprobs = new Logprobs(SamplingParams.MAX_LOGPROBS, exp);
        // choose() leaves the logits at "after bias and penalties", which is what logprobs report.
        return logprobs.sample(logits, token, n);
    }

    /** Records a token chosen elsewhere (e.g. forced by a grammar or a stop sequence) as generated. */
    public void accept(int tokenId) {
        penalties.acceptGenerated(tokenId);
    }

    private int choose(float[] logits) {
        if (logits.length != vocabSize) {
            throw new IllegalArgumentException("expected " + vocabSize + " logits, got " + logits.length);
        }
        penalties.apply(logits);
        if (params.isGreedy()) return argmax(logits);
        if (candidates == null) candidates = new Candidates(vocabSize, exp);
        Candidates c = candidates;
        int k = params.topK();
        if (k > 0) c.gatherTopK(logits, k); else c.gatherAll(logits);
        c.softmax(params.temperature());
        c.topP(params.topP());
        c.minP(params.minP());
        return c.draw(rng.nextDouble());
    }

    /** Index of the largest finite logit; ties go to the lowest id. */
    static int argmax(float[] logits) {
        int best = -1;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int id = 0; id < logits.length; id++) {
            float v = logits[id];
            if (v > bestValue && v < Float.POSITIVE_INFINITY) { best = id; bestValue = v; }
        }
        if (best < 0) throw new IllegalArgumentException("no finite logit to sample from");
        return best;
    }
}
