package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.Map;
import tools.jackson.databind.JsonNode;

@Schema(name = "CreateCompletionRequest")
/** The body of {@code POST /v1/completions}, as OpenAI clients send it (plus vLLM's top_k/min_p/repetition_penalty). */
public record CompletionRequest(
        String model,
        JsonNode prompt,
        @JsonProperty("max_tokens") Integer maxTokens,
        Float temperature,
        @JsonProperty("top_p") Float topP,
        @JsonProperty("top_k") Integer topK,
        @JsonProperty("min_p") Float minP,
        @JsonProperty("repetition_penalty") Float repetitionPenalty,
        @JsonProperty("presence_penalty") Float presencePenalty,
        @JsonProperty("frequency_penalty") Float frequencyPenalty,
        @JsonProperty("logit_bias") Map<String, Float> logitBias,
        Long seed,
        JsonNode stop,
        Integer n,
        Boolean stream,
        @JsonProperty("stream_options") StreamOptions streamOptions,
        Boolean echo,
        Integer logprobs,
        @JsonProperty("best_of") Integer bestOf,
        String suffix,
        String user,
        @JsonProperty("ignore_eos") Boolean ignoreEos,
        @JsonProperty("response_format") ResponseFormat responseFormat) implements SamplingFields {

    /** Top-N alternatives per token (completions' integer {@code logprobs}); -1 when not requested. */
    @Override
    public int logprobsCount() {
        return logprobs == null ? -1 : logprobs;
    }

    @Override
    public String logprobsParam() {
        return "logprobs";
    }
}
