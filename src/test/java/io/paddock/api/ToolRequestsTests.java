package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.engine.RequestRejectedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.json.JsonMapper;

/** Every mistake in the tool-calling and response_format fields is a 400 naming its field as OpenAI does. */
class ToolRequestsTests {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String WEATHER = "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":"
            + "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}";

    static ChatCompletionRequest request(String fields) {
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" + (fields.isEmpty() ? "" : "," + fields) + "}";
        return JSON.treeToValue(JSON.readTree(body), ChatCompletionRequest.class);
    }

    private static ToolUse tools(String fields) {
        ChatCompletionRequest r = request(fields);
        ToolUse use = ToolRequests.tools(r);
        ToolRequests.checkCombination(use, ToolRequests.responseFormat(r.responseFormat()));
        return use;
    }

    @Test
    void toolsDefaultToAutoAndParallel() {
        ToolUse use = tools("\"tools\":[" + WEATHER + "]");
        assertThat(use.choice()).isEqualTo(ToolUse.Choice.AUTO);
        assertThat(use.parallel()).isTrue();
        assertThat(use.active()).isTrue();
        assertThat(use.tools()).singleElement().satisfies(t -> {
            assertThat(t.name()).isEqualTo("get_weather");
            assertThat(t.parameters().get("type").asString()).isEqualTo("object");
        });
        assertThat(tools("").active()).isFalse();
        assertThat(tools("\"tool_choice\":\"none\"").active()).isFalse(); // as before: none without tools is fine
        assertThat(tools("\"tools\":[" + WEATHER + "],\"tool_choice\":\"none\"").active()).isFalse();
    }

    @Test
    void choicesAndTheirForms() {
        assertThat(tools("\"tools\":[" + WEATHER + "],\"tool_choice\":\"required\",\"parallel_tool_calls\":false"))
                .satisfies(u -> {
                    assertThat(u.choice()).isEqualTo(ToolUse.Choice.REQUIRED);
                    assertThat(u.parallel()).isFalse();
                });
        ToolUse named = tools("\"tools\":[" + WEATHER + ",{\"type\":\"function\",\"function\":{\"name\":\"b\"}}],"
                + "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"b\"}}");
        assertThat(named.choice()).isEqualTo(ToolUse.Choice.NAMED);
        assertThat(named.callableNames()).containsExactly("b");
        assertThat(named.parametersParam(1)).isEqualTo("tools[1].function.parameters");
    }

    @Test
    void legacyFunctionsAnswerOneFunctionCall() {
        ToolUse use = tools("\"functions\":[{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}],\"function_call\":{\"name\":\"f\"}");
        assertThat(use.legacy()).isTrue();
        assertThat(use.parallel()).isFalse();
        assertThat(use.choice()).isEqualTo(ToolUse.Choice.NAMED);
        assertThat(use.parametersParam(0)).isEqualTo("functions[0].parameters");
        assertThat(tools("\"functions\":[{\"name\":\"f\"}],\"function_call\":\"none\"").active()).isFalse();
        assertThat(tools("\"functions\":[{\"name\":\"f\"}]").choice()).isEqualTo(ToolUse.Choice.AUTO);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`\"tools\":[]` | tools",
        "`\"tools\":[{\"type\":\"retrieval\",\"function\":{\"name\":\"a\"}}]` | tools[0].type",
        "`\"tools\":[{\"function\":{\"name\":\"a\"}}]` | tools[0].type",
        "`\"tools\":[{\"type\":\"function\"}]` | tools[0].function",
        "`\"tools\":[{\"type\":\"function\",\"function\":{}}]` | tools[0].function.name",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get weather\"}}]` | tools[0].function.name",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "\"}}]` | tools[0].function.name",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}},{\"type\":\"function\",\"function\":{\"name\":\"a\"}}]` | tools[1].function.name",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\",\"parameters\":[1]}}]` | tools[0].function.parameters",
        "`\"tool_choice\":\"required\"` | tool_choice",
        "`\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"a\"}}` | tool_choice",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}],\"tool_choice\":\"sometimes\"` | tool_choice",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"b\"}}` | tool_choice",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}],\"tool_choice\":{\"type\":\"function\"}` | tool_choice.function.name",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}],\"tool_choice\":{\"type\":\"x\",\"function\":{\"name\":\"a\"}}` | tool_choice.type",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}],\"tool_choice\":3` | tool_choice",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}],\"functions\":[{\"name\":\"a\"}]` | functions",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}],\"function_call\":\"auto\"` | function_call",
        "`\"functions\":[{\"name\":\"a\"}],\"tool_choice\":\"auto\"` | tool_choice",
        "`\"functions\":[]` | functions",
        "`\"functions\":[{\"name\":\"a\"}],\"function_call\":{\"name\":\"b\"}` | function_call",
        "`\"functions\":[{\"name\":\"a\"}],\"function_call\":\"required\"` | function_call",
        "`\"functions\":[{\"name\":\"a\"},{\"name\":\"a\"}]` | functions[1].name",
        "`\"function_call\":\"auto\"` | function_call",
        "`\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a\"}}],\"response_format\":{\"type\":\"json_object\"}` | response_format",
        "`\"response_format\":{}` | response_format.type",
        "`\"response_format\":{\"type\":\"yaml\"}` | response_format.type",
        "`\"response_format\":{\"type\":\"json_schema\"}` | response_format.json_schema",
        "`\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{}}` | response_format.json_schema.name",
        "`\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a b\"}}` | response_format.json_schema.name",
        "`\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\",\"schema\":true}}` | response_format.json_schema.schema",
    })
    void mistakesAre400sNamingTheField(String fields, String param) {
        assertThatThrownBy(() -> tools(fields)).isInstanceOfSatisfying(RequestRejectedException.class, e -> {
            assertThat(e.param()).isEqualTo(param);
            assertThat(e.reason()).isEqualTo(RequestRejectedException.Reason.INVALID_REQUEST);
        });
    }

    @Test
    void responseFormats() {
        assertThat(ToolRequests.responseFormat(null)).isEqualTo(ToolRequests.OutputFormat.TEXT);
        assertThat(ToolRequests.responseFormat(request("\"response_format\":{\"type\":\"text\"}").responseFormat()))
                .isEqualTo(ToolRequests.OutputFormat.TEXT);
        assertThat(ToolRequests.responseFormat(request("\"response_format\":{\"type\":\"json_object\"}").responseFormat())
                .kind()).isEqualTo(ToolRequests.OutputFormat.Kind.JSON_OBJECT);
        var schema = ToolRequests.responseFormat(request("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
                + "{\"name\":\"person\",\"strict\":true,\"schema\":{\"type\":\"object\"}}}").responseFormat());
        assertThat(schema.kind()).isEqualTo(ToolRequests.OutputFormat.Kind.JSON_SCHEMA);
        assertThat(schema.schema().toString()).isEqualTo("{\"type\":\"object\"}");
        // With tool_choice none the tools only describe; JSON output may be asked for.
        assertThat(tools("\"tools\":[" + WEATHER + "],\"tool_choice\":\"none\",\"response_format\":{\"type\":\"json_object\"}")
                .active()).isFalse();
    }
}
