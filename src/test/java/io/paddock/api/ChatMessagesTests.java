package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.chat.ChatMessage;
import io.paddock.chat.ToolCall;
import io.paddock.engine.RequestRejectedException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** OpenAI messages with tool calls and tool results, read at the edge. */
class ChatMessagesTests {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static List<ChatMessage> read(String array) {
        List<JsonNode> raw = new ArrayList<>();
        JSON.readTree(array).forEach(raw::add);
        return ChatSupport.messages(raw);
    }

    @Test
    void callsAndResultsAndTheirLegacyForms() {
        List<ChatMessage> m = read("""
                [{"role":"user","content":"Weather?"},
                 {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
                   "function":{"name":"get_weather","arguments":"{\\"city\\": \\"Paris\\"}"}}]},
                 {"role":"tool","tool_call_id":"call_1","content":[{"type":"text","text":"22 C"}]},
                 {"role":"assistant","function_call":{"name":"get_time","arguments":{"tz":"UTC"}}},
                 {"role":"function","name":"get_time","content":"noon"}]""");
        assertThat(m.get(1).content()).isNull();
        assertThat(m.get(1).toolCalls()).containsExactly(new ToolCall("call_1", "get_weather", "{\"city\": \"Paris\"}"));
        assertThat(m.get(2)).isEqualTo(ChatMessage.tool("call_1", null, "22 C"));
        assertThat(m.get(3).toolCalls()).containsExactly(new ToolCall(null, "get_time", "{\"tz\":\"UTC\"}"));
        assertThat(m.get(4)).isEqualTo(ChatMessage.tool(null, "get_time", "noon"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "[{\"role\":\"tool\",\"content\":\"x\"}]",
        "[{\"role\":\"function\",\"content\":\"x\"}]",
        "[{\"role\":\"assistant\",\"tool_calls\":{}}]",
        "[{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}]",
        "[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":{}}]}]",
        "[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"code\",\"function\":{\"name\":\"f\"}}]}]",
        "[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[]}]",
        "[{\"role\":\"critic\",\"content\":\"x\"}]"})
    void mistakesNameMessages(String array) {
        assertThatThrownBy(() -> read(array)).isInstanceOfSatisfying(RequestRejectedException.class,
                e -> assertThat(e.param()).isEqualTo("messages"));
    }
}
