package io.paddock.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** API keys and per-key limits against the real server on the built-in demo model. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "paddock.auth.keys[0].name=alice",
        "paddock.auth.keys[0].key=sk-alice-test",
        "paddock.auth.keys[0].requests-per-minute=1000",
        "paddock.auth.keys[0].tokens-per-minute=100000",
        "paddock.auth.keys[1].name=rpm",
        "paddock.auth.keys[1].key=sk-rpm-test",
        "paddock.auth.keys[1].requests-per-minute=2",
        "paddock.auth.keys[2].name=tpm",
        // sha256("sk-tpm-test"): a key stored as its hash
        "paddock.auth.keys[2].key-sha256=a0562b49bdad17174fa5c9c047b0fafbeca441ba68e6910776a60b42ac703507",
        "paddock.auth.keys[2].tokens-per-minute=40"})
class ApiKeysIT {
    static final List<String> HEADERS = List.of("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
            "x-ratelimit-reset-tokens");
    static final String COMPLETION = "{\"prompt\":\"hello there\",\"max_tokens\":8,\"seed\":1}";

    private final HttpClient http = HttpClient.newHttpClient();
    private final JsonMapper json = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    @Autowired
    MeterRegistry registry;

    private HttpResponse<String> post(String path, String key, String body) throws Exception {
        var b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, String key) throws Exception {
        var b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private double refused(String key, String limit) {
        var c = registry.find("paddock.rate.limited.requests").tag("key", key).tag("limit", limit).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void noKeyIsA401WithOpenAisBody() throws Exception {
        var res = post("/v1/completions", null, COMPLETION);
        assertThat(res.statusCode()).isEqualTo(401);
        assertThat(res.body()).isEqualTo("{\"error\":{\"message\":\"You didn't provide an API key. You need to provide"
                + " your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).\","
                + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}");
        assertThat(res.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        assertThat(get("/v1/models", null).statusCode()).isEqualTo(401);
    }

    @Test
    void aWrongKeyIsA401ThatDoesNotEchoTheKey() throws Exception {
        var res = post("/v1/completions", "sk-not-a-key", COMPLETION);
        assertThat(res.statusCode()).isEqualTo(401);
        JsonNode err = json.readTree(res.body()).get("error");
        assertThat(err.get("message").asString()).startsWith("Incorrect API key provided.");
        assertThat(err.get("type").asString()).isEqualTo("invalid_request_error");
        assertThat(err.get("param").isNull()).isTrue();
        assertThat(err.get("code").asString()).isEqualTo("invalid_api_key");
        assertThat(res.body()).doesNotContain("sk-not-a-key");
        var basic = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/models"))
                .header("Authorization", "Basic c2stYWxpY2UtdGVzdDo=").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(basic.statusCode()).isEqualTo(401);
    }

    @Test
    void aGoodKeyGetsItsAnswerWithOpenAisRateLimitHeaders() throws Exception {
        var res = post("/v1/completions", "sk-alice-test", COMPLETION);
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        for (String h : HEADERS) assertThat(res.headers().firstValue(h)).as(h).isPresent();
        assertThat(res.headers().firstValue("x-ratelimit-limit-requests")).contains("1000");
        assertThat(res.headers().firstValue("x-ratelimit-limit-tokens")).contains("100000");
        int remaining = Integer.parseInt(res.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
        int used = json.readTree(res.body()).get("usage").get("total_tokens").asInt();
        // Settled to what the request used before the response was written (plus a little refill).
        assertThat(remaining).isBetween(100000 - used - 200, 100000 - used + 50);
        assertThat(res.headers().firstValue("x-ratelimit-reset-tokens").orElseThrow()).matches("\\d+(\\.\\d+)?(ms|s)");

        var models = get("/v1/models", "sk-alice-test");
        assertThat(models.statusCode()).isEqualTo(200);
        for (String h : HEADERS) assertThat(models.headers().firstValue(h)).as(h).isPresent();

        var chat = post("/v1/chat/completions", "sk-alice-test", """
                {"messages":[{"role":"user","content":"hi"}],"max_tokens":4,"stream":true}""");
        assertThat(chat.statusCode()).isEqualTo(200);
        assertThat(chat.body()).contains("data: [DONE]");
        for (String h : HEADERS) assertThat(chat.headers().firstValue(h)).as(h).isPresent();

        var invalid = post("/v1/completions", "sk-alice-test", "{\"prompt\":\"x\",\"max_tokens\":-1}");
        assertThat(invalid.statusCode()).isEqualTo(400);
        assertThat(invalid.headers().firstValue("x-ratelimit-remaining-requests")).isPresent();
    }

    @Test
    void requestsOverThePerMinuteLimitAre429WithRetryAfter() throws Exception {
        assertThat(post("/v1/completions", "sk-rpm-test", COMPLETION).statusCode()).isEqualTo(200);
        assertThat(post("/v1/completions", "sk-rpm-test", COMPLETION).statusCode()).isEqualTo(200);
        var res = post("/v1/completions", "sk-rpm-test", COMPLETION);
        assertThat(res.statusCode()).isEqualTo(429);
        assertThat(Integer.parseInt(res.headers().firstValue("retry-after").orElseThrow())).isBetween(1, 60);
        assertThat(res.headers().firstValue("x-ratelimit-remaining-requests")).contains("0");
        assertThat(res.headers().firstValue("x-ratelimit-limit-requests")).contains("2");
        JsonNode err = json.readTree(res.body()).get("error");
        assertThat(err.get("type").asString()).isEqualTo("requests");
        assertThat(err.get("code").asString()).isEqualTo("rate_limit_exceeded");
        assertThat(err.get("param").isNull()).isTrue();
        assertThat(err.get("message").asString()).contains("'rpm'", "requests per min (RPM): Limit 2")
                .doesNotContain("sk-rpm-test");
        assertThat(refused("rpm", "requests")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void tokensOverThePerMinuteLimitAre429OfTypeTokens() throws Exception {
        String big = "{\"prompt\":\"hello there\",\"max_tokens\":30,\"ignore_eos\":true,\"seed\":1}";
        var first = post("/v1/completions", "sk-tpm-test", big);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(first.headers().firstValue("x-ratelimit-limit-tokens")).contains("40");
        assertThat(first.headers().firstValue("x-ratelimit-limit-requests")).isEmpty(); // no request limit
        var res = post("/v1/completions", "sk-tpm-test", big);
        assertThat(res.statusCode()).as(first.headers().map() + first.body()).isEqualTo(429);
        assertThat(Integer.parseInt(res.headers().firstValue("retry-after").orElseThrow())).isBetween(1, 60);
        JsonNode err = json.readTree(res.body()).get("error");
        assertThat(err.get("type").asString()).isEqualTo("tokens");
        assertThat(err.get("code").asString()).isEqualTo("rate_limit_exceeded");
        assertThat(err.get("message").asString()).contains("'tpm'", "tokens per min (TPM): Limit 40");
        assertThat(refused("tpm", "tokens")).isGreaterThanOrEqualTo(1);

        var stream = post("/v1/completions", "sk-tpm-test", big.replace("}", ",\"stream\":true}"));
        assertThat(stream.statusCode()).as("refused before streaming starts").isEqualTo(429);
    }

    @Test
    void openPathsNeedNoKey() throws Exception {
        assertThat(get("/health", null).statusCode()).isEqualTo(200);
        assertThat(get("/ready", null).statusCode()).isNotEqualTo(401);
        assertThat(get("/actuator/health", null).statusCode()).isEqualTo(200);
        assertThat(get("/v3/api-docs", null).statusCode()).isEqualTo(200);
        assertThat(get("/swagger-ui.html", null).statusCode()).isNotEqualTo(401);
        assertThat(get("/health", "sk-wrong").statusCode()).as("a key on an open path is not checked").isEqualTo(200);
    }
}
