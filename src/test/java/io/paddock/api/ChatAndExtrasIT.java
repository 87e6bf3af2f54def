package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.testing.SharedModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Chat completions with an explicit template, the prompt preview, tokenize/detokenize, readiness and the OpenAPI docs. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "paddock.chat-template.stories260K=guanaco")
@EnabledIf(value = "io.paddock.testing.SharedModels#stories260KAvailable", disabledReason = "../shared/models/stories260K is absent")
class ChatAndExtrasIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry r) {
        r.add("paddock.model.path", () -> SharedModels.root().resolve("stories260K").toString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void configuredTemplateRendersAndStopsAtTheNextTurn() throws Exception {
        JsonNode preview = JSON.readTree(post("/v1/chat/completions/render", """
                {"model":"stories260K","messages":[{"role":"user","content":"Hello"}]}""").body());
        assertThat(preview.get("chat_template").asString()).isEqualTo("guanaco");
        assertThat(preview.get("prompt").asString()).contains("### Human: Hello").endsWith("### Assistant:");
        assertThat(preview.get("stop").toString()).contains("### Human:");

        var res = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":[{"type":"text","text":"Hello"}]}],
                 "max_tokens":20,"temperature":0}""");
        assertThat(res.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(res.body());
        assertThat(body.get("object").asString()).isEqualTo("chat.completion");
        assertThat(body.get("choices").get(0).get("message").get("content").asString()).doesNotContain("### Human:");
        assertThat(body.get("usage").get("prompt_tokens").asInt()).isEqualTo(preview.get("prompt_tokens").asInt());
    }

    @Test
    void badMessagesAndUnsupportedFeaturesAre400s() throws Exception {
        var tool = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"tool","content":"x"}]}""");
        assertThat(tool.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(tool.body()).get("error").get("param").asString()).isEqualTo("messages");
        var schema = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"x"}],
                 "response_format":{"type":"json_schema","json_schema":{}}}""");
        assertThat(schema.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(schema.body()).get("error").get("param").asString())
                .isEqualTo("response_format.json_schema.name");
        var empty = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[]}""");
        assertThat(empty.statusCode()).isEqualTo(400);
    }

    @Test
    void toolsCallsAndResultsRenderInTheTemplateAndMistakesNameTheirField() throws Exception {
        JsonNode preview = JSON.readTree(post("/v1/chat/completions/render", """
                {"model":"stories260K","messages":[{"role":"user","content":"Weather?"},
                  {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
                    "function":{"name":"get_weather","arguments":"{\\"city\\": \\"Paris\\"}"}}]},
                  {"role":"tool","tool_call_id":"call_1","content":"22 C"}],
                 "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}""").body());
        assertThat(preview.get("prompt").asString()).contains("<tools>\n{\"name\":\"get_weather\"",
                "### Human: Weather? ### Assistant: <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}",
                "### Human: <tool_response>\n22 C\n</tool_response> ### Assistant:");
        var unknown = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"x"}],
                 "tools":[{"type":"function","function":{"name":"get_weather"}}],
                 "tool_choice":{"type":"function","function":{"name":"get_time"}}}""");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(unknown.body()).get("error").get("param").asString()).isEqualTo("tool_choice");
        var badName = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"x"}],
                 "tools":[{"type":"function","function":{"name":"get weather"}}]}""");
        assertThat(JSON.readTree(badName.body()).get("error").get("param").asString()).isEqualTo("tools[0].function.name");
    }

    /** The grammar makes even a tiny story model answer with a well-formed call of the function it must call. */
    @Test
    void requiredToolChoiceAnswersWithACallWhoseArgumentsFollowTheSchema() throws Exception {
        String tools = """
                "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
                  "properties":{"city":{"type":"string","enum":["Paris","Rome"]}},"required":["city"],
                  "additionalProperties":false}}}]""";
        JsonNode preview = JSON.readTree(post("/v1/chat/completions/render", """
                {"model":"stories260K","messages":[{"role":"user","content":"Weather in Paris?"}],%s}""".formatted(tools)).body());
        assertThat(preview.get("prompt_tokens").asInt()).as("room left in the 512-token context")
                .isLessThanOrEqualTo(512 - 105);
        var res = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"Weather in Paris?"}],%s,
                 "tool_choice":"required","parallel_tool_calls":false,"max_tokens":105,"temperature":0}""".formatted(tools));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        JsonNode choice = JSON.readTree(res.body()).get("choices").get(0);
        assertThat(choice.get("finish_reason").asString()).as(res.body()).isEqualTo("tool_calls");
        assertThat(choice.get("message").get("content").isNull()).isTrue();
        JsonNode call = choice.get("message").get("tool_calls").get(0);
        assertThat(choice.get("message").get("tool_calls").size()).isEqualTo(1);
        assertThat(call.get("id").asString()).matches("call_[A-Za-z0-9]{24}");
        assertThat(call.get("type").asString()).isEqualTo("function");
        assertThat(call.get("function").get("name").asString()).isEqualTo("get_weather");
        assertThat(JSON.readTree(call.get("function").get("arguments").asString()).get("city").asString())
                .isIn("Paris", "Rome");

        // Streamed: the call's pieces add up to the same arguments, and no marker leaks as content.
        var stream = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"Weather in Paris?"}],%s,
                 "tool_choice":"required","parallel_tool_calls":false,"max_tokens":105,"temperature":0,"stream":true}"""
                .formatted(tools));
        StringBuilder arguments = new StringBuilder();
        StringBuilder content = new StringBuilder();
        String name = null;
        String finish = null;
        for (String line : stream.body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode c = JSON.readTree(line.substring("data: ".length())).get("choices").get(0);
            JsonNode delta = c.get("delta");
            if (delta.has("content")) content.append(delta.get("content").asString());
            if (delta.has("tool_calls")) {
                JsonNode f = delta.get("tool_calls").get(0).get("function");
                if (f.has("name")) name = f.get("name").asString();
                arguments.append(f.get("arguments").asString());
            }
            if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asString();
        }
        assertThat(name).isEqualTo("get_weather");
        assertThat(arguments.toString()).isEqualTo(call.get("function").get("arguments").asString());
        assertThat(content.toString()).isEmpty();
        assertThat(finish).isEqualTo("tool_calls");
    }

    @Test
    void aChatThatOverflowsTheContextNamesMessagesAndTheBudgetField() throws Exception {
        String longText = "once upon a time there was a little girl ".repeat(120); // well past 512 tokens
        var overflow = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"%s"}]}""".formatted(longText));
        assertThat(overflow.statusCode()).isEqualTo(400);
        JsonNode err = JSON.readTree(overflow.body()).get("error");
        assertThat(err.get("param").asString()).isEqualTo("messages");
        assertThat(err.get("code").asString()).isEqualTo("context_length_exceeded");
        assertThat(err.get("type").asString()).isEqualTo("invalid_request_error");
        assertThat(overflow.headers().firstValue("x-request-id")).hasValueSatisfying(id -> assertThat(id).startsWith("req_"));

        var budget = post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"Hello"}],"max_completion_tokens":100000}""");
        assertThat(budget.statusCode()).isEqualTo(400);
        JsonNode err2 = JSON.readTree(budget.body()).get("error");
        assertThat(err2.get("param").asString()).isEqualTo("max_completion_tokens");
        assertThat(err2.get("code").asString()).isEqualTo("context_length_exceeded");
    }

    @Test
    void tokenizeDetokenizeReadyAndDocs() throws Exception {
        JsonNode tok = JSON.readTree(post("/tokenize", """
                {"model":"stories260K","prompt":"Once upon a time"}""").body());
        assertThat(tok.get("tokens").get(0).asInt()).isEqualTo(1);
        JsonNode detok = JSON.readTree(post("/detokenize", "{\"model\":\"stories260K\",\"tokens\":" + tok.get("tokens") + "}").body());
        assertThat(detok.get("prompt").asString()).isEqualTo("Once upon a time");
        assertThat(get("/ready").statusCode()).isEqualTo(200);
        String docs = get("/v3/api-docs").body();
        assertThat(docs).contains("CreateChatCompletionRequest", "CreateChatCompletionResponse", "/v1/chat/completions",
                "ChatCompletionTool", "ChatCompletionMessageToolCall", "ChatCompletionMessageToolCallChunk", "ResponseFormat",
                "\"tool_choice\"", "\"parallel_tool_calls\"", "\"tool_calls\"");
    }
}
