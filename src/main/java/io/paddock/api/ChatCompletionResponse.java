package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/** The body of a non-streamed {@code POST /v1/chat/completions} answer. */
@Schema(name = "CreateChatCompletionResponse")
public record ChatCompletionResponse(String id, @Schema(allowableValues = "chat.completion") String object,
        long created, String model, @JsonProperty("system_fingerprint") String systemFingerprint, List<Choice> choices,
        Usage usage) {

    static ChatCompletionResponse of(ResponseHeader h, List<Choice> choices, Usage usage) {
        return new ChatCompletionResponse(h.id(), "chat.completion", h.created(), h.model(), h.systemFingerprint(),
                choices, usage);
    }

    public record Choice(int index, Message message, ChatLogprobs logprobs,
            @JsonProperty("finish_reason") @Schema(allowableValues = {"stop", "length"}) String finishReason) {}

    @Schema(name = "ChatCompletionResponseMessage")
    public record Message(@Schema(allowableValues = "assistant") String role, String content, String refusal) {
        static Message assistant(String content) {
            return new Message("assistant", content, null);
        }
    }
}
