package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

@Schema(name = "CreateChatCompletionRequest")
/** The body of {@code POST /v1/chat/completions}. {@code messages} stay raw JSON: content may be text or parts. */
public record ChatCompletionRequest(
        String model,
        List<JsonNode> messages,
        @JsonProperty("max_tokens") Integer maxTokens,
        @JsonProperty("max_completion_tokens") Integer maxCompletionTokens,
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
        Boolean logprobs,
        @JsonProperty("top_logprobs") Integer topLogprobs,
        String user,
        @JsonProperty("ignore_eos") Boolean ignoreEos,
        @JsonProperty("chat_template") String chatTemplate,
        @JsonProperty("response_format") ResponseFormat responseFormat,
        List<ChatTool> tools,
        @JsonProperty("tool_choice") @Schema(description = "\"none\", \"auto\", \"required\" or"
                + " {\"type\": \"function\", \"function\": {\"name\": ...}}; default auto with tools",
                oneOf = {String.class, ToolChoice.class}) JsonNode toolChoice,
        @JsonProperty("parallel_tool_calls") @Schema(description = "Several calls per answer (default true)")
        Boolean parallelToolCalls,
        @Schema(description = "Deprecated: use tools", deprecated = true) List<ChatTool.Function> functions,
        @JsonProperty("function_call") @Schema(description = "Deprecated: use tool_choice. \"none\", \"auto\" or"
                + " {\"name\": ...}", deprecated = true, oneOf = {String.class, FunctionChoice.class})
        JsonNode functionCall) implements SamplingFields {

    /** The object form of {@code tool_choice}: call this function. */
    @Schema(name = "ChatCompletionNamedToolChoice")
    public record ToolChoice(@Schema(allowableValues = "function") String type, FunctionChoice function) {}

    /** A function by name ({@code tool_choice.function}, or the legacy {@code function_call} object). */
    @Schema(name = "ChatCompletionFunctionCallOption")
    public record FunctionChoice(String name) {}

    @Override
    public int logprobsCount() {
        if (!Boolean.TRUE.equals(logprobs)) return topLogprobs != null ? -2 : -1; // -2: top_logprobs without logprobs
        return topLogprobs == null ? 0 : topLogprobs;
    }

    @Override
    public String logprobsParam() {
        return "top_logprobs";
    }
}
