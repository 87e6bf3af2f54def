package io.paddock.sampling;

import java.util.HashMap;
import java.util.Map;

/**
 * Per-request sampling settings, with the meanings vLLM, HF transformers and the OpenAI API give them.
 *
 * <p>The canonical constructor only normalises ({@code logitBias} null → empty, defensively copied); ranges are
 * checked by {@link #validate(int)}, which the {@link Sampler} constructor also calls.
 *
 * @param temperature       0 = greedy; otherwise logits are divided by it before softmax. OpenAI range [0, 2].
 * @param topP              nucleus mass in (0, 1]; 1 = off
 * @param topK              keep the k most likely tokens (plus ties at the boundary); {@code <= 0} = off
 * @param minP              drop tokens whose probability is below {@code minP * p_max}; 0 = off
 * @param repetitionPenalty HF/CTRL penalty over prompt + generated ids; 1 = off
 * @param presencePenalty   OpenAI penalty over generated ids, subtracted once per present token
 * @param frequencyPenalty  OpenAI penalty over generated ids, subtracted once per occurrence
 * @param logitBias         token id → additive bias, applied before everything else
 * @param seed              RNG seed; null = a random one
 * @param logprobs          top-N alternatives to report (0..20), 0 = only the chosen token's, -1 = not requested
 */
public record SamplingParams(float temperature, float topP, int topK, float minP,
        float repetitionPenalty, float presencePenalty, float frequencyPenalty,
        Map<Integer, Float> logitBias, Long seed, int logprobs) {

    /** The most top-N alternatives a request may ask for (OpenAI's {@code top_logprobs} limit). */
    public static final int MAX_LOGPROBS = 20;

    public SamplingParams {
        logitBias = copyBias(logitBias);
    }

    /** Deterministic argmax decoding with every other option off. */
    public static SamplingParams greedy() {
        return builder().temperature(0f).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder preloaded with these values. */
    public Builder toBuilder() {
        return new Builder().temperature(temperature).topP(topP).topK(topK).minP(minP)
                .repetitionPenalty(repetitionPenalty).presencePenalty(presencePenalty)
                .frequencyPenalty(frequencyPenalty).logitBias(logitBias).seed(seed).logprobs(logprobs);
    }

    /** True when decoding is a plain argmax: temperature 0, or top-k of 1. */
    public boolean isGreedy() {
        return temperature == 0f || topK == 1;
    }

    /**
     * Checks every value against OpenAI's (or, for non-OpenAI knobs, vLLM's) ranges.
     *
     * @return this, for chaining
     * @throws SamplingParamException naming the first offending parameter
     */
    public SamplingParams validate(int vocabSize) {
        if (vocabSize <= 0) throw new IllegalArgumentException("vocabSize must be positive, got " + vocabSize);
        requireIn("temperature", temperature, 0f, 2f, "[0, 2]");
        if (!(topP > 0f && topP <= 1f)) throw new SamplingParamException("top_p", "must be in (0, 1], got " + topP);
        if (topK < -1) throw new SamplingParamException("top_k", "must be -1, 0 (off) or positive, got " + topK);
        requireIn("min_p", minP, 0f, 1f, "[0, 1]");
        if (!(repetitionPenalty > 0f && Float.isFinite(repetitionPenalty))) {
            throw new SamplingParamException("repetition_penalty", "must be > 0, got " + repetitionPenalty);
        }
        requireIn("presence_penalty", presencePenalty, -2f, 2f, "[-2, 2]");
        requireIn("frequency_penalty", frequencyPenalty, -2f, 2f, "[-2, 2]");
        for (var e : logitBias.entrySet()) {
            int id = e.getKey();
            float bias = e.getValue();
            if (id < 0 || id >= vocabSize) {
                throw new SamplingParamException("logit_bias",
                        "token id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
            }
            if (!(bias >= -100f && bias <= 100f)) {
                throw new SamplingParamException("logit_bias",
                        "bias for token " + id + " must be in [-100, 100], got " + bias);
            }
        }
        if (logprobs < -1 || logprobs > MAX_LOGPROBS) {
            throw new SamplingParamException("logprobs",
                    "must be in [0, " + MAX_LOGPROBS + "] (or -1 for none), got " + logprobs);
        }
        return this;
    }

    private static void requireIn(String param, float value, float lo, float hi, String range) {
        // Written so that NaN fails too.
        if (!(value >= lo && value <= hi)) throw new SamplingParamException(param, "must be in " + range + ", got " + value);
    }

    private static Map<Integer, Float> copyBias(Map<Integer, Float> bias) {
        if (bias == null || bias.isEmpty()) return Map.of();
        var copy = new HashMap<Integer, Float>(bias.size() * 2);
        for (var e : bias.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new SamplingParamException("logit_bias", "must not contain null ids or values");
            }
            copy.put(e.getKey(), e.getValue());
        }
        return Map.copyOf(copy);
    }

    /** Fluent builder; defaults are the OpenAI defaults with every extra knob off. */
    public static final class Builder {
        private float temperature = 1f;
        private float topP = 1f;
        private int topK = 0;
        private float minP = 0f;
        private float repetitionPenalty = 1f;
        private float presencePenalty = 0f;
        private float frequencyPenalty = 0f;
        private Map<Integer, Float> logitBias = Map.of();
        private Long seed;
        private int logprobs = -1;

        private Builder() {}

        public Builder temperature(float v) { temperature = v; return this; }
        public Builder topP(float v) { topP = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder minP(float v) { minP = v; return this; }
        public Builder repetitionPenalty(float v) { repetitionPenalty = v; return this; }
        public Builder presencePenalty(float v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(float v) { frequencyPenalty = v; return this; }
        public Builder logitBias(Map<Integer, Float> v) { logitBias = v; return this; }
        public Builder seed(Long v) { seed = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder logprobs(int v) { logprobs = v; return this; }

        public SamplingParams build() {
            return new SamplingParams(temperature, topP, topK, minP, repetitionPenalty, presencePenalty,
                    frequencyPenalty, logitBias, seed, logprobs);
        }
    }
}
