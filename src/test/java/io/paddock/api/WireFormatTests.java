package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * The response records serialize exactly as OpenAI's bodies: field names, order, nulls written out, and
 * {@code usage} absent, null or filled in streamed chunks as {@code stream_options} asks. The accepted request
 * fields are derived from the request records.
 */
class WireFormatTests {
    private final JsonMapper json = JsonMapper.builder().build();
    private final ResponseHeader h = new ResponseHeader("cmpl-1", 7, "m", "fp_paddock_cpu");

    @Test
    void completionResponseMatchesOpenAi() {
        var body = CompletionResponse.of(h, List.of(new CompletionResponse.Choice(0, "hi", null, "length")),
                Optional.of(Usage.of(3, 2)));
        assertThat(json.writeValueAsString(body)).isEqualTo("{\"id\":\"cmpl-1\",\"object\":\"text_completion\","
                + "\"created\":7,\"model\":\"m\",\"system_fingerprint\":\"fp_paddock_cpu\",\"choices\":[{\"index\":0,"
                + "\"text\":\"hi\",\"logprobs\":null,\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":3,"
                + "\"completion_tokens\":2,\"total_tokens\":5}}");
    }

    @Test
    void chunkUsageIsAbsentNullOrFilled() {
        var choice = new ChatCompletionChunk.Choice(0, new ChatCompletionChunk.Delta(null, "x"), null, null);
        assertThat(json.writeValueAsString(ChatCompletionChunk.of(h, List.of(choice), null)))
                .doesNotContain("usage").contains("\"delta\":{\"content\":\"x\"},\"logprobs\":null,\"finish_reason\":null");
        assertThat(json.writeValueAsString(ChatCompletionChunk.of(h, List.of(choice), Optional.empty())))
                .endsWith(",\"usage\":null}");
        assertThat(json.writeValueAsString(ChatCompletionChunk.of(h, List.of(), Optional.of(Usage.of(1, 1)))))
                .endsWith("\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}");
        var finish = new ChatCompletionChunk.Choice(0, ChatCompletionChunk.Delta.EMPTY, null, "stop");
        assertThat(json.writeValueAsString(finish)).isEqualTo("{\"index\":0,\"delta\":{},\"logprobs\":null,"
                + "\"finish_reason\":\"stop\"}");
    }

    @Test
    void chatMessageAndLogprobsMatchOpenAi() {
        var lp = new ChatLogprobs(List.of(new ChatLogprobs.TokenLogprob("a", -0.5f, List.of(97),
                List.of(new ChatLogprobs.TopLogprob("a", -0.5f, List.of(97))))), null);
        var body = ChatCompletionResponse.of(h, List.of(new ChatCompletionResponse.Choice(0,
                ChatCompletionResponse.Message.assistant("a"), lp, "stop")), Usage.of(1, 1));
        assertThat(json.writeValueAsString(body)).contains("\"object\":\"chat.completion\"",
                "\"message\":{\"role\":\"assistant\",\"content\":\"a\",\"refusal\":null}",
                "\"logprobs\":{\"content\":[{\"token\":\"a\",\"logprob\":-0.5,\"bytes\":[97],\"top_logprobs\":"
                        + "[{\"token\":\"a\",\"logprob\":-0.5,\"bytes\":[97]}]}],\"refusal\":null}");
    }

    @Test
    void toolCallsInAMessageAsOpenAiWritesThem() {
        var call = new ChatCompletionResponse.ToolCall("call_abc", "function",
                new ChatCompletionResponse.FunctionCall("get_weather", "{\"city\":\"Paris\"}"));
        var body = ChatCompletionResponse.of(h, List.of(new ChatCompletionResponse.Choice(0,
                new ChatCompletionResponse.Message("assistant", null, null, List.of(call), null), null, "tool_calls")),
                Usage.of(1, 1));
        assertThat(json.writeValueAsString(body)).contains("\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                + "\"content\":null,\"refusal\":null,\"tool_calls\":[{\"id\":\"call_abc\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
                + "\"logprobs\":null,\"finish_reason\":\"tool_calls\"}]");
        var legacy = new ChatCompletionResponse.Message("assistant", null, null, null,
                new ChatCompletionResponse.FunctionCall("f", "{}"));
        assertThat(json.writeValueAsString(legacy)).isEqualTo("{\"role\":\"assistant\",\"content\":null,\"refusal\":null,"
                + "\"function_call\":{\"name\":\"f\",\"arguments\":\"{}\"}}");
    }

    @Test
    void toolCallChunksAsOpenAiStreamsThem() {
        var start = new ChatCompletionChunk.Delta(null, null, List.of(new ChatCompletionChunk.ToolCallDelta(0, "call_abc",
                "function", new ChatCompletionChunk.FunctionDelta("get_weather", ""))), null);
        var piece = new ChatCompletionChunk.Delta(null, null, List.of(new ChatCompletionChunk.ToolCallDelta(0, null, null,
                new ChatCompletionChunk.FunctionDelta(null, "{\"ci"))), null);
        assertThat(json.writeValueAsString(ChatCompletionChunk.of(h, List.of(new ChatCompletionChunk.Choice(0, start, null,
                null)), null))).contains("\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
                + "\"id\":\"call_abc\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},"
                + "\"logprobs\":null,\"finish_reason\":null}]");
        assertThat(json.writeValueAsString(piece)).isEqualTo("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                + "\"{\\\"ci\"}}]}");
        assertThat(json.writeValueAsString(new ChatCompletionChunk.Delta(null, null, null,
                new ChatCompletionChunk.FunctionDelta("f", "")))).isEqualTo("{\"function_call\":{\"name\":\"f\",\"arguments\":\"\"}}");
        assertThat(json.writeValueAsString(new ChatCompletionChunk.Choice(0, ChatCompletionChunk.Delta.EMPTY, null,
                "tool_calls"))).isEqualTo("{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}");
    }

    @Test
    void completionLogprobsAreParallelArrays() {
        var lp = new CompletionResponse.Logprobs(List.of("a"), List.of(-1f), List.of(Map.of("a", -1f)), List.of(0));
        assertThat(json.writeValueAsString(lp)).isEqualTo("{\"tokens\":[\"a\"],\"token_logprobs\":[-1.0],"
                + "\"top_logprobs\":[{\"a\":-1.0}],\"text_offset\":[0]}");
    }

    @Test
    void acceptedFieldsComeFromTheRequestRecords() {
        assertThat(RequestMapper.fieldsOf(ChatCompletionRequest.class)).contains("messages", "max_completion_tokens",
                "top_logprobs", "stream_options", "chat_template", "response_format", "tools", "tool_choice",
                "parallel_tool_calls", "functions", "function_call").doesNotContain("maxCompletionTokens", "prompt",
                "toolChoice");
        assertThat(RequestMapper.fieldsOf(CompletionRequest.class)).contains("prompt", "best_of", "logprobs", "echo",
                "response_format").doesNotContain("messages", "bestOf", "tools");
        assertThat(RequestMapper.fieldsOf(TokenizeController.TokenizeRequest.class))
                .containsExactlyInAnyOrder("model", "prompt", "messages", "add_special_tokens");
    }

    @Test
    void modelCardsCarryRootAndParentAsVllm() {
        var base = new ModelList.Card("llama", "model", 7, "paddock", "llama", null, 2048, "d");
        var adapter = new ModelList.Card("sql", "model", 7, "paddock", "/adapters/sql", "llama", 2048, "LoRA");
        assertThat(json.writeValueAsString(ModelList.of(List.of(base, adapter)))).isEqualTo("{\"object\":\"list\","
                + "\"data\":[{\"id\":\"llama\",\"object\":\"model\",\"created\":7,\"owned_by\":\"paddock\","
                + "\"root\":\"llama\",\"parent\":null,\"max_model_len\":2048,\"description\":\"d\"},"
                + "{\"id\":\"sql\",\"object\":\"model\",\"created\":7,\"owned_by\":\"paddock\","
                + "\"root\":\"/adapters/sql\",\"parent\":\"llama\",\"max_model_len\":2048,\"description\":\"LoRA\"}]}");
    }
}
