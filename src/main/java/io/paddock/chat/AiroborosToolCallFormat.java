package io.paddock.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Airoboros' function calling, from its model cards (jondurbin/airoboros 2.x, "Agent/function calling"): the user's
 * input is wrapped in an instruction that lists the functions in a YAML-like form,
 * <pre>
 * As an AI assistant, please select the most suitable function and parameters from the list of available functions
 * below, based on the user's input. Provide your response in JSON format.
 *
 * Input: {user}
 *
 * Available functions:
 * file_analytics:
 *   description: This tool performs various operations on a text file.
 *   params:
 *     action: The operation we want to perform on the data, such as "count_occurrences", "find_line", etc.
 *     filters:
 *       keyword: The word or phrase we want to search for.
 * </pre>
 * and the answer is one JSON object, {@code {"function": "<name>", "params": {...}}} (written with the card's
 * two-space indentation). One call per answer. The card shows no follow-up turn; a result comes back as a user turn
 * {@code Result of <name>:\n<content>}.
 */
final class AiroborosToolCallFormat implements ToolCallFormat {

    static final String INSTRUCTION = "As an AI assistant, please select the most suitable function and parameters"
            + " from the list of available functions below, based on the user's input. Provide your response in JSON"
            + " format.";

    static final CallSyntax SYNTAX = new CallSyntax("{\n  \"function\": \"", "{\n  \"function\": \"",
            "\",\n  \"params\": ", "\n}", "\n", false,
            " { \"function\" : \"", "\" , \"params\" : ", " }");

    @Override
    public String name() {
        return "airoboros";
    }

    @Override
    public CallSyntax syntax() {
        return SYNTAX;
    }

    @Override
    public List<ChatMessage> lower(List<ChatMessage> messages, List<ToolDefinition> tools) {
        String functions = tools.isEmpty() ? null : availableFunctions(tools);
        return Lowering.lower(messages, null,
                functions == null ? null : user -> INSTRUCTION + "\n\nInput: " + user + "\n\n" + functions,
                this::callsText, (name, content) -> "Result of " + (name == null ? "the function" : name) + ":\n" + content);
    }

    /** {@code Available functions:} and each function as the card writes it. */
    static String availableFunctions(List<ToolDefinition> tools) {
        StringBuilder sb = new StringBuilder("Available functions:");
        for (ToolDefinition t : tools) {
            sb.append('\n').append(t.name()).append(':');
            if (t.description() != null && !t.description().isBlank()) {
                sb.append("\n  description: ").append(oneLine(t.description()));
            }
            JsonNode props = t.parameters() == null ? null : t.parameters().get("properties");
            if (props != null && props.isObject() && !props.isEmpty()) {
                sb.append("\n  params:");
                properties(sb, props, "    ");
            }
        }
        return sb.toString();
    }

    private static void properties(StringBuilder sb, JsonNode props, String indent) {
        for (Map.Entry<String, JsonNode> p : props.properties()) {
            JsonNode schema = p.getValue();
            JsonNode nested = schema.get("properties");
            sb.append('\n').append(indent).append(p.getKey()).append(':');
            if (nested != null && nested.isObject() && !nested.isEmpty()) {
                properties(sb, nested, indent + "  ");
            } else {
                sb.append(' ').append(describe(schema));
            }
        }
    }

    /** A parameter's description, else its type; an enum's values appended. */
    private static String describe(JsonNode schema) {
        String text = schema.path("description").isString() ? oneLine(schema.get("description").asString())
                : schema.path("type").isString() ? schema.get("type").asString() : "any value";
        JsonNode values = schema.get("enum");
        if (values != null && values.isArray() && !values.isEmpty()) {
            List<String> names = new ArrayList<>();
            for (JsonNode v : values) names.add(v.isString() ? v.asString() : v.toString());
            text += " (one of: " + String.join(", ", names) + ")";
        }
        return text;
    }

    private static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\n\\s*", " ");
    }

    private String callsText(ChatMessage m) {
        List<String> parts = new ArrayList<>();
        if (m.content() != null && !m.content().isEmpty()) parts.add(m.content());
        for (ToolCall c : m.toolCalls()) parts.add(SYNTAX.call(c.name(), c.arguments()));
        return String.join("\n", parts);
    }
}
