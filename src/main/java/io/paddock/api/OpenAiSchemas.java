package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/**
 * OpenAPI descriptions of the response bodies, named and shaped as in OpenAI's own specification, so generated
 * clients and the Swagger UI show the OpenAI types. The controllers build these bodies field by field
 * ({@link OpenAiResponses}); these records exist for the documentation.
 */
final class OpenAiSchemas {
    private OpenAiSchemas() {}

    @Schema(name = "CompletionUsage")
    record Usage(@JsonProperty("prompt_tokens") int promptTokens, @JsonProperty("completion_tokens") int completionTokens,
            @JsonProperty("total_tokens") int totalTokens) {}

    @Schema(name = "CreateCompletionResponse")
    record CompletionResponse(String id, @Schema(allowableValues = "text_completion") String object, long created,
            String model, @JsonProperty("system_fingerprint") String systemFingerprint, List<CompletionChoice> choices,
            Usage usage) {}

    record CompletionChoice(int index, String text, Object logprobs,
            @JsonProperty("finish_reason") @Schema(allowableValues = {"stop", "length"}) String finishReason) {}

    @Schema(name = "ChatCompletionResponseMessage")
    record ChatMessage(@Schema(allowableValues = "assistant") String role, String content, String refusal) {}

    @Schema(name = "CreateChatCompletionResponse")
    record ChatCompletionResponse(String id, @Schema(allowableValues = "chat.completion") String object, long created,
            String model, @JsonProperty("system_fingerprint") String systemFingerprint, List<ChatChoice> choices,
            Usage usage) {}

    record ChatChoice(int index, ChatMessage message, Object logprobs,
            @JsonProperty("finish_reason") @Schema(allowableValues = {"stop", "length"}) String finishReason) {}

    @Schema(name = "CreateChatCompletionStreamResponse", description = "One `data:` event of a streamed chat"
            + " completion; the stream ends with `data: [DONE]`.")
    record ChatCompletionChunk(String id, @Schema(allowableValues = "chat.completion.chunk") String object,
            long created, String model, @JsonProperty("system_fingerprint") String systemFingerprint,
            List<ChunkChoice> choices, Usage usage) {}

    record ChunkChoice(int index, ChatDelta delta, Object logprobs, @JsonProperty("finish_reason") String finishReason) {}

    @Schema(name = "ChatCompletionStreamResponseDelta")
    record ChatDelta(String role, String content) {}

    @Schema(name = "Model")
    record Model(String id, @Schema(allowableValues = "model") String object, long created,
            @JsonProperty("owned_by") String ownedBy) {}

    @Schema(name = "ListModelsResponse")
    record ModelList(@Schema(allowableValues = "list") String object, List<Model> data) {}

    @Schema(name = "ErrorResponse")
    record Error(OpenAiError.Body error) {}
}
