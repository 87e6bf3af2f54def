package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;
import java.util.Optional;

/**
 * One {@code data:} event of a streamed chat completion; the stream ends with {@code data: [DONE]}. {@code usage}
 * is absent unless {@code stream_options.include_usage} asked for it; then it is null on every chunk but the last,
 * which has no choices.
 */
@Schema(name = "CreateChatCompletionStreamResponse", description = "One `data:` event of a streamed chat"
        + " completion; the stream ends with `data: [DONE]`.")
public record ChatCompletionChunk(String id, @Schema(allowableValues = "chat.completion.chunk") String object,
        long created, String model, @JsonProperty("system_fingerprint") String systemFingerprint,
        List<Choice> choices, @JsonInclude(JsonInclude.Include.NON_NULL) Optional<Usage> usage) {

    static ChatCompletionChunk of(ResponseHeader h, List<Choice> choices, Optional<Usage> usage) {
        return new ChatCompletionChunk(h.id(), "chat.completion.chunk", h.created(), h.model(), h.systemFingerprint(),
                choices, usage);
    }

    public record Choice(int index, Delta delta, ChatLogprobs logprobs,
            @JsonProperty("finish_reason") @Schema(allowableValues = {"stop", "length", "tool_calls", "function_call"})
            String finishReason) {}

    /**
     * What a chunk adds: the role (first chunk only), content, or a piece of a tool call; the finishing chunk's delta
     * is {@code {}}. A call arrives as {@code {index, id, type, function: {name, arguments: ""}}}, then
     * {@code {index, function: {arguments: <fragment>}}} pieces whose concatenation is the arguments text.
     */
    @Schema(name = "ChatCompletionStreamResponseDelta")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Delta(String role, String content, @JsonProperty("tool_calls") List<ToolCallDelta> toolCalls,
            @JsonProperty("function_call") @Schema(deprecated = true) FunctionDelta functionCall) {
        static final Delta EMPTY = new Delta(null, null);

        public Delta(String role, String content) {
            this(role, content, null, null);
        }
    }

    /** A piece of tool call {@code index}: its id, type and name come in its first piece only. */
    @Schema(name = "ChatCompletionMessageToolCallChunk")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ToolCallDelta(int index, String id, @Schema(allowableValues = "function") String type,
            FunctionDelta function) {}

    /** The function's name (first piece only) and a fragment of its arguments text. */
    @Schema(name = "ChatCompletionMessageToolCallChunkFunction")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FunctionDelta(String name, String arguments) {}
}
