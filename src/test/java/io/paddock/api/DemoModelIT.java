package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * With no model configured the server starts on the generated demo model and says its output is meaningless. The
 * API checks here need no model files: they hold the wire format (chat, streaming with usage, errors, tokenize, the
 * OpenAPI document) on every machine.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class DemoModelIT {
    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @Test
    void servesTheDemoModel() throws Exception {
        JsonMapper json = JsonMapper.builder().build();
        JsonNode models = json.readTree(http.send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + port + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString()).body());
        JsonNode card = models.get("data").get(0);
        assertThat(card.get("id").asString()).isEqualTo("paddock-demo-random");
        assertThat(card.get("description").asString()).contains("meaningless");

        var res = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"hello there\",\"max_tokens\":8,\"seed\":1}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(200);
        JsonNode usage = json.readTree(res.body()).get("usage");
        assertThat(usage.get("completion_tokens").asInt()).isBetween(1, 8);
    }

    private final JsonMapper json = JsonMapper.builder().build();

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void chatCompletionHasOpenAisShape() throws Exception {
        var res = post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"max_completion_tokens\":4,\"seed\":3,\"logprobs\":true,\"top_logprobs\":2}");
        assertThat(res.statusCode()).isEqualTo(200);
        JsonNode body = json.readTree(res.body());
        assertThat(body.get("object").asString()).isEqualTo("chat.completion");
        assertThat(body.get("id").asString()).startsWith("chatcmpl-");
        assertThat(body.get("system_fingerprint").asString()).isEqualTo("fp_paddock_cpu");
        JsonNode choice = body.get("choices").get(0);
        assertThat(choice.get("message").get("role").asString()).isEqualTo("assistant");
        assertThat(choice.get("message").has("refusal")).isTrue();
        JsonNode content = choice.get("logprobs").get("content");
        assertThat(content.size()).isEqualTo(body.get("usage").get("completion_tokens").asInt());
        assertThat(content.get(0).get("top_logprobs").size()).isEqualTo(2);
        assertThat(content.get(0).get("top_logprobs").get(0).has("top_logprobs")).isFalse();
    }

    @Test
    void streamedChatEndsWithUsageAndDone() throws Exception {
        var res = post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"max_tokens\":3,\"seed\":3,\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertThat(res.statusCode()).isEqualTo(200);
        List<String> data = res.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertThat(data.getLast()).isEqualTo("[DONE]");
        JsonNode first = json.readTree(data.getFirst());
        assertThat(first.get("choices").get(0).get("delta").toString()).isEqualTo("{\"role\":\"assistant\",\"content\":\"\"}");
        assertThat(first.get("usage").isNull()).isTrue();
        JsonNode last = json.readTree(data.get(data.size() - 2));
        assertThat(last.get("choices").isEmpty()).isTrue();
        assertThat(last.get("usage").get("completion_tokens").asInt()).isBetween(1, 3);
        JsonNode finish = json.readTree(data.get(data.size() - 3)).get("choices").get(0);
        assertThat(finish.get("delta").toString()).isEqualTo("{}");
        assertThat(finish.get("finish_reason").asString()).isIn("stop", "length");
    }

    @Test
    void streamWithoutIncludeUsageHasNoUsageField() throws Exception {
        var res = post("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":2,\"stream\":true}");
        List<String> data = res.body().lines().filter(l -> l.startsWith("data: {")).toList();
        assertThat(data).isNotEmpty().noneMatch(l -> l.contains("\"usage\""));
    }

    @Test
    void clientMistakesGetOpenAiErrorsNamingTheField() throws Exception {
        var unknownModel = get("/v1/models/nope");
        assertThat(unknownModel.statusCode()).isEqualTo(404);
        assertThat(json.readTree(unknownModel.body()).get("error").get("code").asString()).isEqualTo("model_not_found");

        var unknownField = post("/v1/completions", "{\"prompt\":\"a\",\"max_tokenz\":2}");
        assertThat(unknownField.statusCode()).isEqualTo(400);
        assertThat(json.readTree(unknownField.body()).get("error").get("param").asString()).isEqualTo("max_tokenz");

        var wrongType = post("/tokenize", "{\"model\":{},\"prompt\":\"a\"}");
        assertThat(wrongType.statusCode()).isEqualTo(400);
        assertThat(json.readTree(wrongType.body()).get("error").get("param").asString()).isEqualTo("model");

        int context = json.readTree(get("/v1/models").body()).get("data").get(0).get("max_model_len").asInt();
        String longMessage = "word ".repeat(context + 8);
        var tooLong = post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"" + longMessage
                + "\"}],\"max_tokens\":4}");
        assertThat(tooLong.statusCode()).isEqualTo(400);
        JsonNode error = json.readTree(tooLong.body()).get("error");
        assertThat(error.get("code").asString()).isEqualTo("context_length_exceeded");
        assertThat(error.get("param").asString()).isEqualTo("messages");
    }

    @Test
    void tokenizeAndDetokenizeRoundTrip() throws Exception {
        JsonNode t = json.readTree(post("/tokenize", "{\"prompt\":\"hello world\",\"add_special_tokens\":false}").body());
        assertThat(t.get("count").asInt()).isEqualTo(t.get("tokens").size()).isPositive();
        JsonNode d = json.readTree(post("/detokenize", "{\"tokens\":" + t.get("tokens") + "}").body());
        assertThat(d.get("prompt").asString()).isEqualTo("hello world");
    }

    @Test
    void openApiDocumentDescribesTheServedRecords() throws Exception {
        String docs = get("/v3/api-docs").body();
        assertThat(docs).contains("CreateCompletionResponse", "CreateChatCompletionStreamResponse",
                "ChatCompletionTokenLogprob", "CompletionUsage", "ListModelsResponse", "\"max_completion_tokens\"");
    }
}
