package io.paddock.sampling;

/**
 * One sampled token with optional log-probability information.
 *
 * <p>When logprobs were not requested ({@code SamplingParams.logprobs() < 0}) {@code logprob} is NaN and both
 * arrays are empty. Otherwise {@code logprob} is the chosen token's log-probability and {@code topIds} /
 * {@code topLogprobs} hold the {@code logprobs()} most likely tokens, most likely first (ties: lower id first).
 * All log-probabilities come from the log-softmax of the logits after bias and penalties, before temperature and
 * truncation (see docs/sampling.md).
 *
 * @param topIds      (n) token ids, most likely first
 * @param topLogprobs (n) their log-probabilities, parallel to {@code topIds}
 */
public record Sample(int token, float logprob, int[] topIds, float[] topLogprobs) {
    private static final int[] NO_IDS = new int[0];
    private static final float[] NO_LOGPROBS = new float[0];

    public Sample {
        if (topIds == null) topIds = NO_IDS;
        if (topLogprobs == null) topLogprobs = NO_LOGPROBS;
        if (topIds.length != topLogprobs.length) {
            throw new IllegalArgumentException("topIds and topLogprobs differ in length");
        }
    }

    /** A sample without logprob information. */
    public static Sample of(int token) {
        return new Sample(token, Float.NaN, NO_IDS, NO_LOGPROBS);
    }

    public boolean hasLogprob() {
        return !Float.isNaN(logprob);
    }
}
