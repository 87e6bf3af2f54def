package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.engine.ModelRegistry;
import io.paddock.engine.Stories260KExpected;
import io.paddock.testing.SharedModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The real server on the real stories260K model, driven over HTTP. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@EnabledIf(value = "io.paddock.testing.SharedModels#stories260KAvailable",
        disabledReason = "../shared/models/stories260K is absent")
class CompletionsIT {
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
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void greedyCompletionFromBosEqualsTheReferenceStory() throws Exception {
        var res = post("/v1/completions", """
                {"model":"stories260K","prompt":"","max_tokens":200,"temperature":0}""");
        assertThat(res.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(res.body());
        assertThat(body.get("object").asString()).isEqualTo("text_completion");
        assertThat(body.get("choices").get(0).get("text").asString()).isEqualTo(Stories260KExpected.GREEDY_200);
        assertThat(body.get("choices").get(0).get("finish_reason").asString()).isEqualTo("length");
        assertThat(body.get("usage").get("prompt_tokens").asInt()).isEqualTo(1);
        assertThat(body.get("usage").get("completion_tokens").asInt()).isEqualTo(200);
        assertThat(body.get("usage").get("total_tokens").asInt()).isEqualTo(201);
    }

    @Test
    void stopStringEndsTheCompletion() throws Exception {
        var res = post("/v1/completions", """
                {"model":"stories260K","prompt":"Once upon a time","max_tokens":50,"temperature":0,"stop":["Lily"]}""");
        JsonNode choice = JSON.readTree(res.body()).get("choices").get(0);
        assertThat(choice.get("text").asString()).isEqualTo(", there was a little girl named ");
        assertThat(choice.get("finish_reason").asString()).isEqualTo("stop");
    }

    @Test
    void badRequestsGetOpenAiErrors() throws Exception {
        var neg = post("/v1/completions", """
                {"model":"stories260K","prompt":"x","max_tokens":-1}""");
        assertThat(neg.statusCode()).isEqualTo(400);
        JsonNode err = JSON.readTree(neg.body()).get("error");
        assertThat(err.get("param").asString()).isEqualTo("max_tokens");
        assertThat(err.get("type").asString()).isEqualTo("invalid_request_error");

        var hot = post("/v1/completions", """
                {"model":"stories260K","prompt":"x","temperature":7}""");
        assertThat(hot.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(hot.body()).get("error").get("param").asString()).isEqualTo("temperature");

        var tooLong = post("/v1/completions", """
                {"model":"stories260K","prompt":"x","max_tokens":100000}""");
        assertThat(tooLong.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(tooLong.body()).get("error").get("code").asString())
                .isEqualTo("context_length_exceeded");

        var unknown = post("/v1/completions", """
                {"model":"gpt-4","prompt":"x"}""");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("error").get("code").asString()).isEqualTo("model_not_found");

        var broken = post("/v1/completions", "{not json");
        assertThat(broken.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(broken.body()).get("error").get("message").asString()).isNotBlank();
    }

    @Autowired
    ModelRegistry registry;

    private HttpResponse<Stream<String>> postStream(String path, String body, String accept) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "application/json").header("Accept", accept)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
    }

    @Test
    void streamingSendsChunksUsageAndDoneEvenToJsonAcceptingClients() throws Exception {
        var res = postStream("/v1/completions", """
                {"model":"stories260K","prompt":"Once upon a time","max_tokens":30,"temperature":0,
                 "stream":true,"stream_options":{"include_usage":true}}""", "application/json");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        List<String> data = res.body().filter(l -> l.startsWith("data:")).map(l -> l.substring(5).strip()).toList();
        assertThat(data.getLast()).isEqualTo("[DONE]");
        JsonNode usage = JSON.readTree(data.get(data.size() - 2));
        assertThat(usage.get("choices")).isEmpty();
        assertThat(usage.get("usage").get("completion_tokens").asInt()).isEqualTo(30);
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String d : data.subList(0, data.size() - 2)) {
            JsonNode c = JSON.readTree(d);
            assertThat(c.get("object").asString()).isEqualTo("text_completion");
            assertThat(c.has("usage") && c.get("usage").isNull()).isTrue();
            JsonNode ch = c.get("choices").get(0);
            text.append(ch.get("text").asString());
            if (!ch.get("finish_reason").isNull()) finish = ch.get("finish_reason").asString();
        }
        assertThat(finish).isEqualTo("length");
        var whole = JSON.readTree(post("/v1/completions", """
                {"model":"stories260K","prompt":"Once upon a time","max_tokens":30,"temperature":0}""").body());
        assertThat(text.toString()).isEqualTo(whole.get("choices").get(0).get("text").asString());
    }

    @Test
    void severalChoicesAndLogprobs() throws Exception {
        JsonNode body = JSON.readTree(post("/v1/completions", """
                {"model":"stories260K","prompt":"Tom","max_tokens":8,"n":3,"seed":5,"logprobs":2}""").body());
        assertThat(body.get("choices")).hasSize(3);
        JsonNode lp = body.get("choices").get(1).get("logprobs");
        assertThat(lp.get("tokens")).hasSize(body.get("choices").get(1).get("logprobs").get("token_logprobs").size());
        assertThat(lp.get("top_logprobs").get(0).size()).isBetween(1, 2);
        assertThat(lp.get("token_logprobs").get(0).asDouble()).isLessThanOrEqualTo(0.0);
        assertThat(body.get("usage").get("completion_tokens").asInt()).isEqualTo(24);
    }

    @Test
    void unsupportedAndUnknownFieldsAreRefusedByName() throws Exception {
        var tools = post("/v1/completions", """
                {"model":"stories260K","prompt":"x","tools":[]}""");
        assertThat(tools.statusCode()).isEqualTo(400);
        var unknown = post("/v1/completions", """
                {"model":"stories260K","prompt":"x","frobnicate":1}""");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(unknown.body()).get("error").get("param").asString()).isEqualTo("frobnicate");
    }

    @Test
    void clientDisconnectCancelsAndFreesBlocks() throws Exception {
        var res = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("""
                {"model":"stories260K","prompt":"Once","max_tokens":400,"stream":true,"ignore_eos":true}"""))
                .build(), HttpResponse.BodyHandlers.ofInputStream());
        var in = res.body();
        assertThat(in.read(new byte[64])).isPositive(); // streaming has begun
        in.close();
        var stats = registry.defaultService();
        for (int i = 0; i < 300 && (stats.pending() > 0 || stats.stats().blocksUsed() > 0); i++) Thread.sleep(10);
        assertThat(stats.pending()).isZero();
        assertThat(stats.stats().blocksUsed()).isZero();
        assertThat(stats.stats().computedTokens()).isLessThan(400 * 5);
    }

    @Test
    void healthAndModels() throws Exception {
        assertThat(get("/health").statusCode()).isEqualTo(200);
        JsonNode models = JSON.readTree(get("/v1/models").body());
        assertThat(models.get("data").get(0).get("id").asString()).isEqualTo("stories260K");
        assertThat(get("/v1/models/stories260K").statusCode()).isEqualTo(200);
        assertThat(get("/v1/models/nope").statusCode()).isEqualTo(404);
    }
}
