package io.paddock.chat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * The default format for models that were never taught tool calling (LLaMA-1-era fine-tunes): the functions are
 * listed as JSON in the system prompt with an instruction, a call is a {@code <tool_call>} block holding
 * {@code {"name": ..., "arguments": {...}}} (the Hermes/Qwen layout, the one most tool-tuned models share), results
 * come back as {@code <tool_response>} blocks in a user turn. The grammar makes the call well-formed; the prompt only
 * has to make it likely. {@link #NATIVE} is the same syntax for a Jinja template that renders tools itself.
 */
final class TaggedToolCallFormat implements ToolCallFormat {

    static final CallSyntax SYNTAX = new CallSyntax("<tool_call>", "<tool_call>\n{\"name\": \"", "\", \"arguments\": ",
            "}\n</tool_call>", "\n", true,
            " <tool_call> { \"name\" : \"", "\" , \"arguments\" : ", " } </tool_call>");

    static final TaggedToolCallFormat RENDERED = new TaggedToolCallFormat(true);
    static final TaggedToolCallFormat NATIVE = new TaggedToolCallFormat(false);

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final boolean rendersTools;

    private TaggedToolCallFormat(boolean rendersTools) {
        this.rendersTools = rendersTools;
    }

    @Override
    public String name() {
        return rendersTools ? "default" : "jinja";
    }

    @Override
    public CallSyntax syntax() {
        return SYNTAX;
    }

    @Override
    public List<ChatMessage> lower(List<ChatMessage> messages, List<ToolDefinition> tools) {
        if (!rendersTools) return messages;
        return Lowering.lower(messages, tools.isEmpty() ? null : toolsPrompt(tools), null, this::callsText,
                (name, content) -> "<tool_response>\n" + content + "\n</tool_response>");
    }

    /** The system-prompt block: the functions as JSON, one per line, and how to call them. */
    static String toolsPrompt(List<ToolDefinition> tools) {
        StringBuilder sb = new StringBuilder("You can call functions to help answer. The functions, with a JSON"
                + " Schema of their arguments:\n<tools>\n");
        for (ToolDefinition t : tools) sb.append(JSON.writeValueAsString(asJson(t))).append('\n');
        sb.append("</tools>\nTo call a function, answer with a block like this for each call, and nothing else:\n"
                + "<tool_call>\n{\"name\": \"<function name>\", \"arguments\": <the arguments as a JSON object>}\n"
                + "</tool_call>\nEach result comes back to you in a <tool_response> block.");
        return sb.toString();
    }

    private static Map<String, Object> asJson(ToolDefinition t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", t.name());
        if (t.description() != null) m.put("description", t.description());
        if (t.parameters() != null) m.put("parameters", t.parameters());
        return m;
    }

    private String callsText(ChatMessage m) {
        List<String> parts = new ArrayList<>();
        if (m.content() != null && !m.content().isEmpty()) parts.add(m.content());
        for (ToolCall c : m.toolCalls()) parts.add(SYNTAX.call(c.name(), c.arguments()));
        return String.join("\n", parts);
    }
}
