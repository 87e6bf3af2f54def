package io.paddock.chat;

import static io.paddock.chat.Tools.CALLED;
import static io.paddock.chat.Tools.PARIS;
import static io.paddock.chat.Tools.TIME;
import static io.paddock.chat.Tools.WEATHER;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Tools, past calls and results written into prompts: the default and Airoboros formats, through every template. */
class ToolCallFormatTests {

    @Test
    void defaultFormatListsToolsInTheSystemPromptAndWritesCallsAndResultsAsText() {
        List<ChatMessage> lowered = ToolCallFormat.DEFAULT.lower(CALLED, List.of(WEATHER, TIME));
        assertThat(lowered).extracting(ChatMessage::role).containsExactly("system", "user", "assistant", "user");
        assertThat(lowered.get(0).content()).startsWith("Be brief.\n\nYou can call functions")
                .contains("<tools>\n{\"name\":\"get_weather\",\"description\":\"Current weather\",\"parameters\":"
                        + "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"description\":\"The city\"},"
                        + "\"unit\":{\"type\":\"string\",\"enum\":[\"c\",\"f\"]}},\"required\":[\"city\"]}}\n"
                        + "{\"name\":\"get_time\"}\n</tools>\n")
                .endsWith("<tool_call>\n{\"name\": \"<function name>\", \"arguments\": <the arguments as a JSON object>}\n"
                        + "</tool_call>\nEach result comes back to you in a <tool_response> block.");
        assertThat(lowered.get(2).content())
                .isEqualTo("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>");
        assertThat(lowered.get(3).content()).isEqualTo("<tool_response>\n22 C\n</tool_response>");
    }

    @Test
    void aPromptWithoutToolsOrToolTrafficIsUnchanged() {
        assertThat(ToolCallFormat.DEFAULT.lower(Chats.MULTI_TURN_SYSTEM, List.of())).isSameAs(Chats.MULTI_TURN_SYSTEM);
        assertThat(ToolCallFormat.AIROBOROS.lower(Chats.MULTI_TURN, List.of())).isSameAs(Chats.MULTI_TURN);
    }

    @Test
    void toolsWithoutASystemMessageGetOne() {
        List<ChatMessage> lowered = ToolCallFormat.DEFAULT.lower(Chats.ONE_TURN, List.of(TIME));
        assertThat(lowered).extracting(ChatMessage::role).containsExactly("system", "user");
        assertThat(lowered.getFirst().content()).startsWith("You can call functions");
    }

    @Test
    void severalResultsAndAFollowingUserMessageMergeIntoOneUserTurn() {
        List<ChatMessage> chat = List.of(ChatMessage.user("Weather in Paris and the time?"),
                ChatMessage.assistant("Let me look.", List.of(PARIS, new ToolCall("call_2", "get_time", "{}"))),
                ChatMessage.tool("call_1", null, "22 C"), ChatMessage.tool("call_2", "get_time", "noon"),
                ChatMessage.user("And in Rome?"));
        List<ChatMessage> lowered = ToolCallFormat.DEFAULT.lower(chat, List.of());
        assertThat(lowered).extracting(ChatMessage::role).containsExactly("user", "assistant", "user");
        assertThat(lowered.get(1).content()).isEqualTo("Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\":"
                + " {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>");
        assertThat(lowered.get(2).content()).isEqualTo("<tool_response>\n22 C\n</tool_response>\n"
                + "<tool_response>\nnoon\n</tool_response>\n\nAnd in Rome?");
    }

    @Test
    void airoborosWrapsTheQuestionInItsCardsInstructionAndFunctionList() {
        RenderedPrompt p = ChatTemplates.named("airoboros").render(List.of(ChatMessage.user("Weather in Paris?")),
                List.of(WEATHER, TIME), true);
        assertThat(p.text()).isEqualTo(VicunaTemplate.AIROBOROS_PREAMBLE + " USER: As an AI assistant, please select the"
                + " most suitable function and parameters from the list of available functions below, based on the"
                + " user's input. Provide your response in JSON format.\n\nInput: Weather in Paris?\n\n"
                + "Available functions:\nget_weather:\n  description: Current weather\n  params:\n    city: The city\n"
                + "    unit: string (one of: c, f)\nget_time: ASSISTANT:");
    }

    @Test
    void airoborosWritesAPastCallAsItsJsonAndTheResultAsAUserTurn() {
        List<ChatMessage> lowered = ToolCallFormat.AIROBOROS.lower(CALLED, List.of(WEATHER));
        assertThat(lowered).extracting(ChatMessage::role).containsExactly("system", "user", "assistant", "user");
        assertThat(lowered.get(1).content()).startsWith(AiroborosToolCallFormat.INSTRUCTION + "\n\nInput: Weather in Paris?");
        assertThat(lowered.get(2).content()).isEqualTo("{\n  \"function\": \"get_weather\",\n  \"params\": {\"city\": \"Paris\"}\n}");
        assertThat(lowered.get(3).content()).isEqualTo("Result of get_weather:\n22 C");
    }

    @Test
    void eachTemplateHasItsFormat() {
        assertThat(ChatTemplates.named("airoboros").toolCallFormat()).isSameAs(ToolCallFormat.AIROBOROS);
        assertThat(ChatTemplates.named("vicuna-v1.1").toolCallFormat()).isSameAs(ToolCallFormat.DEFAULT);
        assertThat(new JinjaChatTemplate(JinjaChatTemplateTests.CHATML, "<s>", "</s>").toolCallFormat())
                .isSameAs(ToolCallFormat.DEFAULT);
        assertThat(new JinjaChatTemplate("{{ tools }}", "<s>", "</s>").toolCallFormat()).isSameAs(ToolCallFormat.JINJA);
        assertThat(ToolCallFormat.JINJA.syntax()).isEqualTo(ToolCallFormat.DEFAULT.syntax());
        assertThat(ToolCallFormat.JINJA.name()).isEqualTo("jinja");
    }

    static List<String> builtIns() {
        return List.copyOf(ChatTemplates.names());
    }

    /** Every built-in renders a tool conversation, with or without the tools, as its own turns. */
    @ParameterizedTest
    @MethodSource("builtIns")
    void everyBuiltInRendersCallsAndResults(String name) {
        ChatTemplate t = ChatTemplates.named(name);
        String call = t.toolCallFormat().syntax().call("get_weather", "{\"city\": \"Paris\"}");
        RenderedPrompt withTools = t.render(CALLED, List.of(WEATHER), true);
        assertThat(withTools.text()).contains(call, "22 C", "Weather in Paris?", "get_weather");
        RenderedPrompt without = t.render(CALLED, true); // a follow-up turn need not send the tools again
        assertThat(without.text()).contains(call, "22 C");
    }
}
