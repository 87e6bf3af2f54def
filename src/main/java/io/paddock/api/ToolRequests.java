package io.paddock.api;

import io.paddock.chat.ToolDefinition;
import io.paddock.engine.RequestRejectedException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Checks the tool-calling and {@code response_format} fields of a request. Every mistake is a 400 naming the field
 * the way OpenAI names it ({@code tools[0].function.name}, {@code response_format.json_schema.schema}, ...).
 */
final class ToolRequests {
    /** OpenAI's rule for function and schema names. */
    static final Pattern NAME = Pattern.compile("^[a-zA-Z0-9_-]{1,64}$");

    private ToolRequests() {}

    /** What {@code response_format} asks for: free text, any JSON object, or JSON following {@code schema}. */
    record OutputFormat(Kind kind, JsonNode schema, boolean strict) {
        OutputFormat(Kind kind, JsonNode schema) {
            this(kind, schema, false);
        }

        enum Kind { TEXT, JSON_OBJECT, JSON_SCHEMA }

        static final OutputFormat TEXT = new OutputFormat(Kind.TEXT, null, false);
    }

    static ToolUse tools(ChatCompletionRequest r) {
        boolean hasTools = r.tools() != null;
        boolean hasFunctions = r.functions() != null;
        if (hasTools && hasFunctions) {
            throw invalid("functions", "tools and functions cannot both be given (functions is the deprecated form of tools)");
        }
        if (hasTools && present(r.functionCall())) {
            throw invalid("function_call", "function_call goes with functions; with tools, use tool_choice");
        }
        if (hasFunctions && present(r.toolChoice())) {
            throw invalid("tool_choice", "tool_choice goes with tools; with functions, use function_call");
        }
        if (hasFunctions) return legacy(r);
        if (present(r.functionCall()) && !"none".equals(r.functionCall().asString(""))) {
            throw invalid("function_call", "function_call is only allowed when functions are given");
        }
        List<ToolDefinition> tools = new ArrayList<>();
        if (hasTools) {
            if (r.tools().isEmpty()) throw invalid("tools", "tools must not be empty (leave it out for no tools)");
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < r.tools().size(); i++) {
                ChatTool t = r.tools().get(i);
                String where = "tools[" + i + "]";
                if (t == null) throw invalid(where, where + " must be an object");
                if (t.type() == null) throw invalid(where + ".type", "Missing required parameter: '" + where + ".type'.");
                if (!t.type().equals("function")) {
                    throw invalid(where + ".type", "Invalid value: '" + t.type() + "'. Supported values are: 'function'.");
                }
                if (t.function() == null) throw invalid(where + ".function", "Missing required parameter: '" + where + ".function'.");
                tools.add(function(t.function(), where + ".function", seen));
            }
        }
        JsonNode c = r.toolChoice();
        ToolUse.Choice choice = hasTools ? ToolUse.Choice.AUTO : ToolUse.Choice.NONE;
        String forced = null;
        if (present(c)) {
            if (c.isString()) {
                choice = switch (c.asString()) {
                    case "none" -> ToolUse.Choice.NONE;
                    case "auto" -> ToolUse.Choice.AUTO;
                    case "required" -> ToolUse.Choice.REQUIRED;
                    default -> throw invalid("tool_choice", "Invalid value: '" + c.asString() + "'. tool_choice must be"
                            + " \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}");
                };
            } else if (c.isObject()) {
                JsonNode type = c.get("type");
                if (type == null || !"function".equals(type.asString(""))) {
                    throw invalid("tool_choice.type", "tool_choice.type must be \"function\"");
                }
                JsonNode name = c.path("function").get("name");
                if (name == null || !name.isString()) {
                    throw invalid("tool_choice.function.name", "Missing required parameter: 'tool_choice.function.name'.");
                }
                choice = ToolUse.Choice.NAMED;
                forced = name.asString();
            } else {
                throw invalid("tool_choice", "tool_choice must be \"none\", \"auto\", \"required\" or"
                        + " {\"type\": \"function\", \"function\": {\"name\": ...}}");
            }
            if (choice != ToolUse.Choice.NONE && !hasTools) {
                throw invalid("tool_choice", "tool_choice is only allowed when tools are given");
            }
            String named = forced;
            if (named != null && tools.stream().noneMatch(t -> t.name().equals(named))) {
                throw invalid("tool_choice", "tool_choice names the function '" + named + "', which is not in tools");
            }
        }
        boolean parallel = r.parallelToolCalls() == null || r.parallelToolCalls();
        return new ToolUse(tools, choice, forced, parallel, false);
    }

    /** {@code functions} and {@code function_call}: one call per answer, answered as {@code message.function_call}. */
    private static ToolUse legacy(ChatCompletionRequest r) {
        if (r.functions().isEmpty()) throw invalid("functions", "functions must not be empty (leave it out for no functions)");
        List<ToolDefinition> tools = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < r.functions().size(); i++) {
            ChatTool.Function f = r.functions().get(i);
            if (f == null) throw invalid("functions[" + i + "]", "functions[" + i + "] must be an object");
            tools.add(function(f, "functions[" + i + "]", seen));
        }
        JsonNode c = r.functionCall();
        ToolUse.Choice choice = ToolUse.Choice.AUTO;
        String forced = null;
        if (present(c)) {
            if (c.isString() && c.asString().equals("none")) {
                choice = ToolUse.Choice.NONE;
            } else if (c.isString() && c.asString().equals("auto")) {
                choice = ToolUse.Choice.AUTO;
            } else if (c.isObject() && c.path("name").isString()) {
                forced = c.get("name").asString();
                choice = ToolUse.Choice.NAMED;
                String named = forced;
                if (tools.stream().noneMatch(t -> t.name().equals(named))) {
                    throw invalid("function_call", "function_call names the function '" + named + "', which is not in functions");
                }
            } else {
                throw invalid("function_call", "function_call must be \"none\", \"auto\" or {\"name\": ...}");
            }
        }
        return new ToolUse(tools, choice, forced, false, true);
    }

    /** A function definition at {@code where} ({@code tools[i].function} or {@code functions[i]}). */
    private static ToolDefinition function(ChatTool.Function f, String where, Set<String> seen) {
        if (f.name() == null) throw invalid(where + ".name", "Missing required parameter: '" + where + ".name'.");
        if (!NAME.matcher(f.name()).matches()) {
            throw invalid(where + ".name", "Invalid '" + where + ".name': string does not match pattern. Expected a"
                    + " string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.");
        }
        if (!seen.add(f.name())) throw invalid(where + ".name", "Duplicate function name '" + f.name() + "'");
        JsonNode parameters = f.parameters();
        if (parameters != null && parameters.isNull()) parameters = null;
        if (parameters != null && !parameters.isObject()) {
            throw invalid(where + ".parameters", "Invalid '" + where + ".parameters': it must be a JSON Schema object");
        }
        return new ToolDefinition(f.name(), f.description(), parameters, Boolean.TRUE.equals(f.strict()));
    }

    /** {@code response_format}; absent is text. */
    static OutputFormat responseFormat(ResponseFormat f) {
        if (f == null) return OutputFormat.TEXT;
        if (f.type() == null) throw invalid("response_format.type", "Missing required parameter: 'response_format.type'.");
        return switch (f.type()) {
            case "text" -> OutputFormat.TEXT;
            case "json_object" -> new OutputFormat(OutputFormat.Kind.JSON_OBJECT, null, false);
            case "json_schema" -> {
                ResponseFormat.JsonSchema js = f.jsonSchema();
                if (js == null) {
                    throw invalid("response_format.json_schema", "Missing required parameter: 'response_format.json_schema'.");
                }
                if (js.name() == null) {
                    throw invalid("response_format.json_schema.name",
                            "Missing required parameter: 'response_format.json_schema.name'.");
                }
                if (!NAME.matcher(js.name()).matches()) {
                    throw invalid("response_format.json_schema.name", "Invalid 'response_format.json_schema.name': string"
                            + " does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.");
                }
                JsonNode schema = js.schema();
                if (schema != null && schema.isNull()) schema = null;
                if (schema != null && !schema.isObject()) {
                    throw invalid("response_format.json_schema.schema", "Invalid 'response_format.json_schema.schema':"
                            + " it must be a JSON Schema object");
                }
                yield new OutputFormat(OutputFormat.Kind.JSON_SCHEMA, schema, Boolean.TRUE.equals(js.strict()));
            }
            default -> throw invalid("response_format.type", "Invalid value: '" + f.type() + "'. Supported values are:"
                    + " 'text', 'json_object' and 'json_schema'.");
        };
    }

    /** JSON output and tool calls both constrain the whole answer: only one of them per request. */
    static void checkCombination(ToolUse tools, OutputFormat format) {
        if (tools.active() && format.kind() != OutputFormat.Kind.TEXT) {
            throw invalid("response_format", "response_format " + format.kind().name().toLowerCase(java.util.Locale.ROOT)
                    + " cannot be combined with tool calls; send tool_choice \"none\" or leave out response_format");
        }
    }

    private static boolean present(JsonNode n) {
        return n != null && !n.isNull();
    }

    private static RequestRejectedException invalid(String param, String message) {
        return RequestRejectedException.invalid(param, message);
    }
}
