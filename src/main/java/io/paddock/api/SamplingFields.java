package io.paddock.api;

import java.util.Map;
import tools.jackson.databind.JsonNode;

/** The generation fields completions and chat completions share. */
interface SamplingFields {
    String model();
    Float temperature();
    Float topP();
    Integer topK();
    Float minP();
    Float repetitionPenalty();
    Float presencePenalty();
    Float frequencyPenalty();
    Map<String, Float> logitBias();
    Long seed();
    JsonNode stop();
    Integer n();
    Boolean stream();
    StreamOptions streamOptions();
    Boolean ignoreEos();

    /** Top-N alternatives requested per token; 0 = only the chosen token's logprob; -1 = none. */
    int logprobsCount();

    /** The request field that asked for logprobs, for error messages. */
    String logprobsParam();
}
