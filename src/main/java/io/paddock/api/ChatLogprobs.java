package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/** Chat log-probabilities: {@code {"content":[{"token","logprob","bytes","top_logprobs":[...]}],"refusal":null}}. */
public record ChatLogprobs(List<TokenLogprob> content, String refusal) {

    @Schema(name = "ChatCompletionTokenLogprob")
    public record TokenLogprob(String token, float logprob, List<Integer> bytes,
            @JsonProperty("top_logprobs") List<TopLogprob> topLogprobs) {}

    /** One of the most likely alternatives at a position. */
    public record TopLogprob(String token, float logprob, List<Integer> bytes) {}
}
