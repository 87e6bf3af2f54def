package io.paddock.chat;

import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The functions and tool conversations the tool-calling tests use. */
final class Tools {
    private Tools() {}

    static final JsonMapper JSON = JsonMapper.builder().build();

    static JsonNode json(String text) {
        return JSON.readTree(text);
    }

    static final ToolDefinition WEATHER = new ToolDefinition("get_weather", "Current weather",
            json("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"description\":\"The city\"},"
                    + "\"unit\":{\"type\":\"string\",\"enum\":[\"c\",\"f\"]}},\"required\":[\"city\"]}"));
    static final ToolDefinition TIME = new ToolDefinition("get_time", null, null);

    static final ToolCall PARIS = new ToolCall("call_1", "get_weather", "{\"city\": \"Paris\"}");

    /** A question, the call it led to, the call's result: the assistant's answer is next. */
    static final List<ChatMessage> CALLED = List.of(ChatMessage.system("Be brief."),
            ChatMessage.user("Weather in Paris?"), ChatMessage.assistant(null, List.of(PARIS)),
            ChatMessage.tool("call_1", null, "22 C"));
}
