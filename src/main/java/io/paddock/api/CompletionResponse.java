package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The body of a {@code POST /v1/completions} answer, and of each {@code data:} event when streamed (OpenAI uses one
 * type for both). {@code usage} is absent from chunks unless {@code stream_options.include_usage} asked for it; then
 * it is null on every chunk but the last, which has no choices.
 */
@Schema(name = "CreateCompletionResponse")
public record CompletionResponse(String id, @Schema(allowableValues = "text_completion") String object, long created,
        String model, @JsonProperty("system_fingerprint") String systemFingerprint, List<Choice> choices,
        @JsonInclude(JsonInclude.Include.NON_NULL) Optional<Usage> usage) {

    static final String OBJECT = "text_completion";

    static CompletionResponse of(ResponseHeader h, List<Choice> choices, Optional<Usage> usage) {
        return new CompletionResponse(h.id(), OBJECT, h.created(), h.model(), h.systemFingerprint(), choices, usage);
    }

    public record Choice(int index, String text, Logprobs logprobs,
            @JsonProperty("finish_reason") @Schema(allowableValues = {"stop", "length"}) String finishReason) {}

    /** Legacy completions log-probabilities: parallel arrays, one entry per token. */
    public record Logprobs(List<String> tokens, @JsonProperty("token_logprobs") List<Float> tokenLogprobs,
            @JsonProperty("top_logprobs") List<Map<String, Float>> topLogprobs,
            @JsonProperty("text_offset") List<Integer> textOffset) {}
}
