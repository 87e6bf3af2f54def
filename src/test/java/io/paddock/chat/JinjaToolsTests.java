package io.paddock.chat;

import static io.paddock.chat.Tools.CALLED;
import static io.paddock.chat.Tools.WEATHER;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A Jinja template that handles tools gets them as apply_chat_template passes them; others get the default text. */
class JinjaToolsTests {

    /** Writes the tools, each call with its arguments as JSON, and each result with the call id it answers. */
    static final String TOOL_TEMPLATE = "{% if tools %}Tools:{% for t in tools %} {{ t['type'] }}/{{ t.function.name }}"
            + "{% endfor %}{{ '\\n' }}{% endif %}"
            + "{% for m in messages %}"
            + "{% if m.role == 'assistant' and m.tool_calls %}{% for c in m.tool_calls %}"
            + "CALL {{ c.id }} {{ c.type }} {{ c.function.name }} {{ c.function.arguments | tojson }} {{ c.function.arguments.city }}{{ '\\n' }}"
            + "{% endfor %}{% elif m.role == 'tool' %}RESULT {{ m.tool_call_id }}: {{ m.content }}{{ '\\n' }}"
            + "{% else %}{{ m.role }}: {{ m.content }}{{ '\\n' }}{% endif %}{% endfor %}"
            + "{% if add_generation_prompt %}assistant:{% endif %}";

    @Test
    void toolsCallsAndResultsReachTheTemplateAsHuggingFaceDicts() {
        JinjaChatTemplate t = new JinjaChatTemplate(TOOL_TEMPLATE, "<s>", "</s>");
        RenderedPrompt p = t.render(CALLED, List.of(WEATHER), true);
        assertThat(p.text()).startsWith("Tools: function/get_weather\nsystem: Be brief.\nuser: Weather in Paris?\nCALL call_1"
                + " function get_weather ").contains("\"city\"", "\"Paris\"", " Paris\nRESULT call_1: 22 C\nassistant:");
        assertThat(t.render(CALLED, List.of(), true).text()).startsWith("system: Be brief.");
    }

    @Test
    void aTemplateWithoutToolsSeesTheDefaultFormatsText() {
        JinjaChatTemplate chatMl = new JinjaChatTemplate(JinjaChatTemplateTests.CHATML, "<s>", "<|im_end|>");
        RenderedPrompt p = chatMl.render(CALLED, List.of(WEATHER), true);
        assertThat(p.text()).startsWith("<|im_start|>system\nBe brief.\n\nYou can call functions")
                .contains("<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}"
                        + "\n</tool_call><|im_end|>")
                .endsWith("<|im_start|>user\n<tool_response>\n22 C\n</tool_response><|im_end|>\n<|im_start|>assistant\n");
    }
}
