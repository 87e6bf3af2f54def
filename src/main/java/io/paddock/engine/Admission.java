package io.paddock.engine;

import io.paddock.model.GenerationConfig;
import io.paddock.sampling.SamplingParamException;
import io.paddock.sampling.SamplingParams;
import java.util.Map;

/**
 * The one "does this request fit?" step that every entry goes through (HTTP, the CLI, benchmarks and the engine's
 * own check on submit), and the one place generation_config defaults are merged into sampling. Pure: it sees only
 * numbers (the model's context, the KV pool) and the request, and either returns an {@link Admitted} request or
 * throws a {@link RequestRejectedException} naming the field at fault as the entry calls it.
 */
public final class Admission {
    private Admission() {}

    /**
     * How one entry names its fields and what it accepts.
     *
     * @param promptParam    the field holding the prompt ({@code prompt}, {@code messages}, {@code --prompt})
     * @param maxTokensParam the field holding the completion budget ({@code max_tokens}, {@code max_completion_tokens})
     * @param minMaxTokens   the smallest budget accepted (1 over HTTP as OpenAI, 0 = prompt only elsewhere)
     * @param clampMaxTokens whether a budget past the context or the KV pool is cut to fit (CLI) instead of refused
     *                       (HTTP)
     */
    public record Entry(String promptParam, String maxTokensParam, int minMaxTokens, boolean clampMaxTokens) {
        /** {@code /v1/completions}. */
        public static final Entry COMPLETION = new Entry("prompt", "max_tokens", 1, false);
        /** A request built in code and handed to the engine (benchmarks, tests, the engine's own re-check). */
        public static final Entry ENGINE = new Entry("prompt", "max_tokens", 0, false);
        /** {@code paddock generate}. */
        public static final Entry CLI = new Entry("--prompt", "--max-tokens", 0, true);

        /** {@code /v1/chat/completions}: the prompt is {@code messages}; the budget field is the one the client used. */
        public static Entry chat(String maxTokensParam) {
            return new Entry("messages", maxTokensParam, 1, false);
        }
    }

    /** What one engine can hold: the model's context and its KV pool ({@code numBlocks} blocks of {@code blockSize}). */
    public record Capacity(int contextLength, int numBlocks, int blockSize) {
        public Capacity {
            if (contextLength < 1 || numBlocks < 1 || blockSize < 1) {
                throw new IllegalArgumentException("capacity must be positive: " + contextLength + ", " + numBlocks
                        + ", " + blockSize);
            }
        }

        public int blocksNeeded(long tokens) {
            return (int) ((tokens + blockSize - 1) / blockSize);
        }
    }

    /** A request that fits: its prompt and the completion budget it will run with. */
    public record Admitted(int[] promptIds, int maxTokens) {}

    /**
     * Decides whether a prompt and budget fit.
     *
     * @param maxTokens        the budget the client gave, or null for the default
     * @param defaultMaxTokens the budget when none is given; 0 or less = the rest of the context
     */
    public static Admitted admit(Capacity cap, int[] promptIds, Integer maxTokens, int defaultMaxTokens, Entry entry) {
        int context = cap.contextLength();
        if (promptIds.length == 0) {
            throw RequestRejectedException.invalid(entry.promptParam(), "the prompt encodes to no tokens and the"
                    + " model adds no BOS");
        }
        if (promptIds.length >= context) {
            throw RequestRejectedException.contextLength(entry.promptParam(), "This model's maximum context length is "
                    + context + " tokens. However, your prompt has " + promptIds.length + " tokens. Please reduce the"
                    + " length of the prompt.");
        }
        int room = context - promptIds.length;
        int budget;
        if (maxTokens == null) {
            budget = Math.min(defaultMaxTokens > 0 ? defaultMaxTokens : Integer.MAX_VALUE, room);
        } else {
            budget = maxTokens;
            if (budget < entry.minMaxTokens()) {
                throw RequestRejectedException.invalid(entry.maxTokensParam(), entry.maxTokensParam()
                        + " must be at least " + entry.minMaxTokens() + ", got " + budget);
            }
            if (entry.clampMaxTokens()) {
                budget = Math.min(budget, room);
            } else if ((long) promptIds.length + budget > context) {
                throw RequestRejectedException.contextLength(entry.maxTokensParam(), "This model's maximum context"
                        + " length is " + context + " tokens. However, you requested " + (promptIds.length + budget)
                        + " tokens (" + promptIds.length + " in the prompt, " + budget + " for the completion)."
                        + " Please reduce the prompt or " + entry.maxTokensParam() + ".");
            }
        }
        if (entry.clampMaxTokens()) { // the CLI also cuts its budget to what the KV pool holds
            long poolRoom = (long) cap.numBlocks() * cap.blockSize() - promptIds.length;
            budget = (int) Math.max(0, Math.min(budget, poolRoom));
        }
        long total = (long) promptIds.length + budget;
        int blocks = cap.blocksNeeded(total);
        if (blocks > cap.numBlocks()) {
            throw RequestRejectedException.contextLength(entry.maxTokensParam(), "prompt + " + entry.maxTokensParam()
                    + " need " + blocks + " KV blocks but the cache holds only " + cap.numBlocks());
        }
        return new Admitted(promptIds, budget);
    }

    /** The engine's check of a request built elsewhere: the same rules, field names as in {@code entry}. */
    public static void check(Capacity cap, GenerationRequest request, Entry entry) {
        admit(cap, request.promptIds(), request.maxTokens(), 0, entry);
    }

    /**
     * Sampling fields as a request gives them; null means "not given": the model's generation_config applies, then
     * OpenAI's default.
     */
    public record RequestedSampling(Float temperature, Float topP, Integer topK, Float minP, Float repetitionPenalty,
            Float presencePenalty, Float frequencyPenalty, Map<Integer, Float> logitBias, Long seed, int logprobs) {}

    /**
     * The one merge of generation_config defaults into what a request asked for, validated against the vocabulary.
     * A bad value is refused as INVALID_REQUEST naming its field (the wire name, e.g. {@code top_p}).
     */
    public static SamplingParams sampling(GenerationConfig gc, RequestedSampling r, int vocabSize) {
        try {
            return SamplingParams.builder()
                    .temperature(pick(r.temperature(), gc.temperature(), 1.0f))
                    .topP(pick(r.topP(), gc.topP(), 1.0f))
                    .topK(r.topK() != null ? r.topK() : gc.topK() != null ? gc.topK() : 0)
                    .minP(pick(r.minP(), null, 0f))
                    .repetitionPenalty(pick(r.repetitionPenalty(), gc.repetitionPenalty(), 1.0f))
                    .presencePenalty(pick(r.presencePenalty(), null, 0f))
                    .frequencyPenalty(pick(r.frequencyPenalty(), null, 0f))
                    .logitBias(r.logitBias() == null ? Map.of() : r.logitBias())
                    .seed(r.seed())
                    .logprobs(r.logprobs())
                    .build()
                    .validate(vocabSize);
        } catch (SamplingParamException e) { // from build (e.g. a null logit_bias value) or validate
            throw RequestRejectedException.invalid(e.param(), e.getMessage());
        }
    }

    private static float pick(Float requested, Float modelDefault, float fallback) {
        return requested != null ? requested : modelDefault != null ? modelDefault : fallback;
    }
}
