package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;

/** Token counts of one request: {@code usage} in responses and in a stream's final chunk. */
@Schema(name = "CompletionUsage")
public record Usage(@JsonProperty("prompt_tokens") int promptTokens,
        @JsonProperty("completion_tokens") int completionTokens, @JsonProperty("total_tokens") int totalTokens) {

    static Usage of(int prompt, int completion) {
        return new Usage(prompt, completion, prompt + completion);
    }
}
