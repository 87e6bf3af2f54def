package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.api.OutputConstraints.AnyJsonObject;
import io.paddock.api.OutputConstraints.Choice;
import io.paddock.api.OutputConstraints.FreeTextOr;
import io.paddock.api.OutputConstraints.Literal;
import io.paddock.api.OutputConstraints.Plan;
import io.paddock.api.OutputConstraints.Repeat;
import io.paddock.api.OutputConstraints.Schema;
import io.paddock.api.OutputConstraints.Sequence;
import io.paddock.chat.CallSyntax;
import io.paddock.chat.ToolCallFormat;
import io.paddock.chat.ToolDefinition;
import io.paddock.engine.RequestRejectedException;
import io.paddock.structured.Grammar;
import io.paddock.structured.GrammarState;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The grammar each request asks for, as the plan handed to Grammars. */
class OutputConstraintsTests {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final JsonNode CITY = JSON.readTree("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
            + "\"required\":[\"city\"]}");
    private static final ToolDefinition WEATHER = new ToolDefinition("get_weather", null, CITY);
    private static final ToolDefinition TIME = new ToolDefinition("get_time", "now", null);
    private static final CallSyntax TAGGED = ToolCallFormat.DEFAULT.syntax();

    private static Plan weatherCall() {
        return new Sequence(List.of(new Literal("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "),
                new Schema(CITY, "tools[0].function.parameters"), new Literal("}\n</tool_call>")));
    }

    private static Plan timeCall() {
        return new Sequence(List.of(new Literal("<tool_call>\n{\"name\": \"get_time\", \"arguments\": "),
                new Schema(OutputConstraints.NO_PARAMETERS, "tools[1].function.parameters"), new Literal("}\n</tool_call>")));
    }

    @Test
    void responseFormats() {
        assertThat(OutputConstraints.responseFormat(ToolRequests.OutputFormat.TEXT)).isNull();
        assertThat(OutputConstraints.responseFormat(new ToolRequests.OutputFormat(ToolRequests.OutputFormat.Kind.JSON_OBJECT,
                null))).isEqualTo(new AnyJsonObject());
        assertThat(OutputConstraints.responseFormat(new ToolRequests.OutputFormat(ToolRequests.OutputFormat.Kind.JSON_SCHEMA,
                CITY))).isEqualTo(new Schema(CITY, "response_format.json_schema.schema"));
        assertThat(OutputConstraints.responseFormat(new ToolRequests.OutputFormat(ToolRequests.OutputFormat.Kind.JSON_SCHEMA,
                null))).isEqualTo(new AnyJsonObject());
    }

    @Test
    void requiredWithParallelCallsIsOneOrMoreCallsOfAnyTool() {
        ToolUse use = new ToolUse(List.of(WEATHER, TIME), ToolUse.Choice.REQUIRED, null, true, false);
        assertThat(OutputConstraints.tools(use, TAGGED))
                .isEqualTo(new Repeat(new Choice(List.of(weatherCall(), timeCall())), "\n", 1, -1));
    }

    @Test
    void aNamedFunctionWithoutParallelCallsIsExactlyOneCallOfIt() {
        ToolUse use = new ToolUse(List.of(WEATHER, TIME), ToolUse.Choice.NAMED, "get_time", false, false);
        assertThat(OutputConstraints.tools(use, TAGGED)).isEqualTo(timeCall());
    }

    @Test
    void autoIsFreeTextOrCallsAfterTheTrigger() {
        ToolUse use = new ToolUse(List.of(WEATHER), ToolUse.Choice.AUTO, null, true, false);
        Plan first = new Sequence(List.of(new Literal("\n{\"name\": \"get_weather\", \"arguments\": "),
                new Schema(CITY, "tools[0].function.parameters"), new Literal("}\n</tool_call>")));
        assertThat(OutputConstraints.tools(use, TAGGED)).isEqualTo(new FreeTextOr("<tool_call>", new Sequence(List.of(first,
                new Repeat(new Sequence(List.of(new Literal("\n"), weatherCall())), "", 0, -1)))));
        ToolUse single = new ToolUse(List.of(WEATHER), ToolUse.Choice.AUTO, null, false, false);
        assertThat(OutputConstraints.tools(single, TAGGED)).isEqualTo(new FreeTextOr("<tool_call>", first));
        assertThat(OutputConstraints.tools(single, TAGGED).describe()).isEqualTo("freeTextOr(\"<tool_call>\", sequence("
                + "literal(\"\\n{\\\"name\\\": \\\"get_weather\\\", \\\"arguments\\\": \"), jsonSchema(" + CITY + "),"
                + " literal(\"}\\n</tool_call>\")))");
    }

    @Test
    void noneAndNoToolsLeaveTheOutputFree() {
        assertThat(OutputConstraints.tools(new ToolUse(List.of(WEATHER), ToolUse.Choice.NONE, null, true, false), TAGGED)).isNull();
        assertThat(OutputConstraints.tools(ToolUse.NONE, TAGGED)).isNull();
        assertThat(OutputConstraints.compile(null)).isNull();
    }

    /** A remote {@code $ref} is beyond any grammar: refused with the grammar's message, naming the field. */
    @Test
    void aSchemaTheGrammarRefusesIsA400NamingItsField() {
        JsonNode remote = JSON.readTree("{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"https://example.com/a.json\"}}}");
        ToolUse use = new ToolUse(List.of(new ToolDefinition("f", null, remote)), ToolUse.Choice.REQUIRED, null, false, false);
        assertThatThrownBy(() -> OutputConstraints.compile(OutputConstraints.tools(use, TAGGED)))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                    assertThat(e.param()).isEqualTo("tools[0].function.parameters");
                    assertThat(e.getMessage()).startsWith("Invalid schema for 'tools[0].function.parameters': ")
                            .contains("$ref");
                });
        assertThatThrownBy(() -> OutputConstraints.compile(new Schema(remote, "response_format.json_schema.schema")))
                .isInstanceOfSatisfying(RequestRejectedException.class,
                        e -> assertThat(e.param()).isEqualTo("response_format.json_schema.schema"));
    }

    @Test
    void plansCompile() {
        ToolUse use = new ToolUse(List.of(WEATHER, TIME), ToolUse.Choice.AUTO, null, true, false);
        assertThat(OutputConstraints.compile(OutputConstraints.tools(use, TAGGED))).isNotNull();
        assertThat(OutputConstraints.compile(new AnyJsonObject())).isNotNull();
    }

    /** Whether the grammar accepts {@code text} as a whole output. */
    private static boolean accepts(Grammar g, String text) {
        GrammarState state = g.start();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            state = state.advance(b & 0xff);
            if (state == null) return false;
        }
        return state.isAccepting();
    }

    /** What the formats write (and the parser reads back) is what the grammar generates. */
    @Test
    void theGrammarAcceptsExactlyTheCallsTheFormatWrites() {
        String paris = TAGGED.call("get_weather", "{\"city\": \"Paris\"}");
        String now = TAGGED.call("get_time", "{}");
        Grammar auto = OutputConstraints.compile(OutputConstraints.tools(
                new ToolUse(List.of(WEATHER, TIME), ToolUse.Choice.AUTO, null, true, false), TAGGED));
        assertThat(accepts(auto, "It is sunny.")).isTrue();
        assertThat(accepts(auto, paris)).isTrue();
        assertThat(accepts(auto, paris + "\n" + now)).isTrue();
        assertThat(accepts(auto, TAGGED.call("get_weather", "{\"town\": \"Paris\"}"))).isFalse();
        assertThat(accepts(auto, TAGGED.call("rm", "{}"))).isFalse();
        Grammar one = OutputConstraints.compile(OutputConstraints.tools(
                new ToolUse(List.of(WEATHER, TIME), ToolUse.Choice.REQUIRED, null, false, false), TAGGED));
        assertThat(accepts(one, now)).isTrue();
        assertThat(accepts(one, paris + "\n" + now)).isFalse();
        assertThat(accepts(one, "It is sunny.")).isFalse();
        Grammar named = OutputConstraints.compile(OutputConstraints.tools(
                new ToolUse(List.of(WEATHER, TIME), ToolUse.Choice.NAMED, "get_time", true, false), TAGGED));
        assertThat(accepts(named, now + "\n" + now)).isTrue();
        assertThat(accepts(named, paris)).isFalse();
        CallSyntax airoboros = ToolCallFormat.AIROBOROS.syntax();
        Grammar card = OutputConstraints.compile(OutputConstraints.tools(
                new ToolUse(List.of(WEATHER), ToolUse.Choice.AUTO, null, true, false), airoboros));
        assertThat(accepts(card, airoboros.call("get_weather", "{\"city\": \"Rome\"}"))).isTrue();
        assertThat(accepts(card, "Rome is sunny.")).isTrue();
        assertThat(accepts(OutputConstraints.compile(new AnyJsonObject()), "{\"a\": [1]}")).isTrue();
        assertThat(accepts(OutputConstraints.compile(new AnyJsonObject()), "sure")).isFalse();
    }

    @Test
    void airoborosIsOneCallInItsCardsShape() {
        CallSyntax airoboros = ToolCallFormat.AIROBOROS.syntax();
        ToolUse use = new ToolUse(List.of(WEATHER), ToolUse.Choice.AUTO, null, true, true);
        assertThat(OutputConstraints.tools(use, airoboros)).isEqualTo(new FreeTextOr("{\n  \"function\": \"",
                new Sequence(List.of(new Literal("get_weather\",\n  \"params\": "),
                        new Schema(CITY, "functions[0].parameters"), new Literal("\n}")))));
    }
}
