package io.paddock.engine;

import io.paddock.sampling.SamplingParams;
import java.util.List;

/**
 * A generation request: prompt ids, a token budget, sampling and stop conditions. Whether it fits a model is
 * decided by {@link Admission}; the checks here refuse values no model could take.
 */
public record GenerationRequest(int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
        boolean ignoreEos) {
    public GenerationRequest {
        if (promptIds.length == 0) throw RequestRejectedException.invalid("prompt", "prompt has no tokens");
        if (maxTokens < 0) throw RequestRejectedException.invalid("max_tokens", "max_tokens must be >= 0");
        stop = List.copyOf(stop);
    }
}
