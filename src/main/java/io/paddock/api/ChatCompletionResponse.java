package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonInclude;
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
            @JsonProperty("finish_reason") @Schema(allowableValues = {"stop", "length", "tool_calls", "function_call"})
            String finishReason) {}

    /**
     * The answer: text ({@code content}), or calls ({@code tool_calls}, or the legacy {@code function_call}) with
     * {@code content} null or the text written before them. {@code tool_calls} and {@code function_call} are absent
     * when there are none.
     */
    @Schema(name = "ChatCompletionResponseMessage")
    public record Message(@Schema(allowableValues = "assistant") String role,
            @Schema(nullable = true) String content, String refusal,
            @JsonProperty("tool_calls") @JsonInclude(JsonInclude.Include.NON_NULL) List<ToolCall> toolCalls,
            @JsonProperty("function_call") @JsonInclude(JsonInclude.Include.NON_NULL)
            @Schema(deprecated = true) FunctionCall functionCall) {
        static Message assistant(String content) {
            return new Message("assistant", content, null, null, null);
        }
    }

    /** {@code {"id": "call_...", "type": "function", "function": {"name", "arguments"}}}. */
    @Schema(name = "ChatCompletionMessageToolCall")
    public record ToolCall(String id, @Schema(allowableValues = "function") String type, FunctionCall function) {}

    /** A function's name and its arguments as JSON text, as generated (check it before use, as OpenAI says). */
    @Schema(name = "ChatCompletionMessageFunctionCall")
    public record FunctionCall(String name, String arguments) {}
}
