package io.paddock.engine;

import io.paddock.sampling.SamplingParams;
import java.util.List;

/** A validated generation request: prompt ids, a token budget, sampling and stop conditions. */
public record GenerationRequest(int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
        boolean ignoreEos) {
    public GenerationRequest {
        if (promptIds.length == 0) throw new IllegalArgumentException("prompt has no tokens");
        if (maxTokens < 0) throw new IllegalArgumentException("max_tokens must be >= 0");
        stop = List.copyOf(stop);
    }
}
