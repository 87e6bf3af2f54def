package io.paddock.api;

import io.paddock.chat.CallSyntax;
import io.paddock.chat.ToolDefinition;
import io.paddock.engine.RequestRejectedException;
import io.paddock.structured.Grammar;
import io.paddock.structured.Grammars;
import io.paddock.structured.SchemaException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The grammar a request's output must follow, from {@code response_format} or from its tools: first a {@link Plan}
 * (a plain description, what the tests look at), then {@link #compile} turns it into a {@link Grammar} with
 * {@link Grammars}. A schema the grammar engine refuses is a 400 naming the field that holds it.
 *
 * <p>A tool call is built from literals around the arguments' schema ({@code <tool_call>\n{"name": "f",
 * "arguments": } + schema + {@code }\n</tool_call>}), a choice over the callable functions, rather than from one
 * {@code anyOf} schema of {@code {name, arguments}} objects: the same language with the name first and the spacing
 * fixed, so the text before the arguments is known exactly and the arguments stream as they are generated.
 */
final class OutputConstraints {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** The arguments of a function declared without parameters: OpenAI's "empty parameter list". */
    static final JsonNode NO_PARAMETERS = JSON.readTree("{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}");

    private OutputConstraints() {}

    /** A grammar, described: one node per {@link Grammars} factory. */
    sealed interface Plan {
        String describe();
    }

    record Literal(String text) implements Plan {
        public String describe() { return "literal(" + quote(text) + ")"; }
    }

    /** A JSON Schema, and the request field it came from (for a refusal). */
    record Schema(JsonNode schema, String param, boolean strict) implements Plan {
        /** A non-strict schema (OpenAI's default). */
        Schema(JsonNode schema, String param) {
            this(schema, param, false);
        }

        public String describe() { return "jsonSchema(" + schema + ")"; }
    }

    record AnyJsonObject() implements Plan {
        public String describe() { return "anyJsonObject()"; }
    }

    record Sequence(List<Plan> items) implements Plan {
        public String describe() { return "sequence(" + all(items) + ")"; }
    }

    record Choice(List<Plan> options) implements Plan {
        public String describe() { return "choice(" + all(options) + ")"; }
    }

    /** {@code max} -1: unbounded. */
    record Repeat(Plan item, String separator, int min, int max) implements Plan {
        public String describe() { return "repeat(" + item.describe() + ", " + quote(separator) + ", " + min + ", " + max + ")"; }
    }

    record FreeTextOr(String trigger, Plan then) implements Plan {
        public String describe() { return "freeTextOr(" + quote(trigger) + ", " + then.describe() + ")"; }
    }

    /** {@code response_format}: null for text. */
    static Plan responseFormat(ToolRequests.OutputFormat f) {
        return switch (f.kind()) {
            case TEXT -> null;
            case JSON_OBJECT -> new AnyJsonObject();
            case JSON_SCHEMA -> f.schema() == null ? new AnyJsonObject()
                    : new Schema(f.schema(), "response_format.json_schema.schema", f.strict());
        };
    }

    /**
     * The calls a request allows, in a format's syntax; null when the output is free ({@code tool_choice: none}, no
     * tools). {@code auto}: free text not starting with the trigger, or calls; {@code required}: calls; a named
     * function: calls of it only. Several calls, joined by the syntax's separator, where the format holds several
     * and {@code parallel_tool_calls} allows them; else exactly one.
     */
    static Plan tools(ToolUse use, CallSyntax syntax) {
        if (!use.active()) return null;
        List<Plan> firstCalls = new ArrayList<>();
        List<Plan> calls = new ArrayList<>();
        List<ToolDefinition> all = use.tools();
        for (int i = 0; i < all.size(); i++) {
            ToolDefinition t = all.get(i);
            if (!use.callableNames().contains(t.name())) continue;
            Plan arguments = t.parameters() == null ? new Schema(NO_PARAMETERS, use.parametersParam(i))
                    : new Schema(t.parameters(), use.parametersParam(i), t.strict());
            String prefix = syntax.prefix(t.name());
            calls.add(new Sequence(List.of(new Literal(prefix), arguments, new Literal(syntax.closer()))));
            firstCalls.add(new Sequence(List.of(new Literal(prefix.substring(syntax.trigger().length())), arguments,
                    new Literal(syntax.closer()))));
        }
        Plan call = oneOf(calls);
        boolean several = syntax.severalCalls() && use.parallel();
        if (use.choice() == ToolUse.Choice.AUTO) {
            Plan then = oneOf(firstCalls);
            if (several) {
                then = new Sequence(List.of(then, new Repeat(new Sequence(List.of(new Literal(syntax.separator()), call)),
                        "", 0, -1)));
            }
            return new FreeTextOr(syntax.trigger(), then);
        }
        return several ? new Repeat(call, syntax.separator(), 1, -1) : call;
    }

    private static Plan oneOf(List<Plan> options) {
        return options.size() == 1 ? options.getFirst() : new Choice(options);
    }

    /** The grammar of a plan (null: none); a schema the engine cannot enforce is a 400 naming its field. */
    static Grammar compile(Plan plan) {
        if (plan == null) return null;
        return switch (plan) {
            case Literal l -> Grammars.literal(l.text());
            case Schema s -> {
                try {
                    yield Grammars.jsonSchema(s.schema(), s.strict());
                } catch (SchemaException e) {
                    throw RequestRejectedException.invalid(s.param(), "Invalid schema for '" + s.param() + "': "
                            + e.getMessage());
                }
            }
            case AnyJsonObject a -> Grammars.anyJsonObject();
            case Sequence s -> Grammars.sequence(s.items().stream().map(OutputConstraints::compile).toArray(Grammar[]::new));
            case Choice c -> Grammars.choice(c.options().stream().map(OutputConstraints::compile).toArray(Grammar[]::new));
            case Repeat r -> Grammars.repeat(compile(r.item()), r.separator(), r.min(), r.max());
            case FreeTextOr f -> Grammars.freeTextOr(f.trigger(), compile(f.then()));
        };
    }

    private static String all(List<Plan> plans) {
        return plans.stream().map(Plan::describe).collect(Collectors.joining(", "));
    }

    private static String quote(String s) {
        return JSON.writeValueAsString(s);
    }
}
