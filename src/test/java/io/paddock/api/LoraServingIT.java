package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.micrometer.core.instrument.MeterRegistry;
import io.paddock.engine.AdapterRegistry;
import io.paddock.engine.EngineConfig;
import io.paddock.engine.EngineObserver;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationService;
import io.paddock.engine.LoraConfig;
import io.paddock.loading.LoadedModel;
import io.paddock.lora.PeftAdapters;
import io.paddock.sampling.SamplingParams;
import io.paddock.testing.SharedModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real server on stories260K-padded with one PEFT adapter from start-up ({@code paddock.lora.adapters}, what
 * {@code --lora} sets) and another loaded and unloaded at run time: greedy completions through each adapter differ
 * from the base and equal what the engine gives with the same adapter directly; {@code /v1/models} lists adapters with
 * their parent and root; refusals are OpenAI-shaped; only admin keys change the adapters; metrics count under the
 * adapter's name.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "paddock.auth.keys[0].name=ops", "paddock.auth.keys[0].key=sk-ops-test", "paddock.auth.keys[0].admin=true",
        "paddock.auth.keys[1].name=app", "paddock.auth.keys[1].key=sk-app-test"})
@EnabledIf(value = "io.paddock.testing.SharedModels#stories260KAvailable", disabledReason = "../shared/models is absent")
class LoraServingIT {
    static final String BASE = "stories260K-padded";
    static final String ADMIN = "sk-ops-test", USER = "sk-app-test";
    static final String PROMPT = "Once upon a time";
    static final int MAX_TOKENS = 24;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @Autowired
    MeterRegistry registry;

    @DynamicPropertySource
    static void models(DynamicPropertyRegistry r) {
        r.add("paddock.model.path", () -> SharedModels.root().resolve(BASE).toString());
        r.add("paddock.lora.adapters", () -> "all=" + SharedModels.root().resolve("stories260K-lora-all"));
        // fp32 KV here and in direct(): the server's text is compared with a separate engine's, token for token
        r.add("paddock.engine.kv-cache-dtype", () -> "f32");
    }

    private HttpResponse<String> post(String path, String key, String body) throws Exception {
        var b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode get(String path) throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Authorization", "Bearer " + USER).build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    private HttpResponse<String> complete(String model) throws Exception {
        return post("/v1/completions", USER, "{\"model\":\"" + model + "\",\"prompt\":\"" + PROMPT
                + "\",\"max_tokens\":" + MAX_TOKENS + ",\"temperature\":0,\"ignore_eos\":true}");
    }

    private String text(String model) throws Exception {
        HttpResponse<String> r = complete(model);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("model").asString()).isEqualTo(model);
        return body.get("choices").get(0).get("text").asString();
    }

    /** What the engine alone gives with the adapter in {@code dir}: the reference for the server's answer. */
    private static String direct(String adapter, Path dir) {
        Path base = SharedModels.require(BASE);
        LoadedModel model = LoadedModel.load(BASE, "", base, 1);
        AdapterRegistry adapters = new AdapterRegistry(LoraConfig.defaults(),
                (name, d) -> PeftAdapters.load(d, name, model.checkpoint().config()));
        try (GenerationService s = new GenerationService(model,
                EngineConfig.defaults().withKvCacheDtype(io.paddock.runtime.KvCacheDtype.F32), EngineObserver.NONE,
                adapters)) {
            if (adapter != null) adapters.add(adapter, dir);
            int[] prompt = model.encodePrompt(PROMPT);
            return s.generate(new GenerationRequest(prompt, MAX_TOKENS, SamplingParams.greedy(), List.of(), true,
                    GenerationRequest.ANONYMOUS, adapter), t -> { }).text();
        }
    }

    @Test
    void adaptersFromStartAndRuntimeEachGiveTheirEngineOutput() throws Exception {
        Path allDir = SharedModels.require("stories260K-lora-all");
        Path qvDir = SharedModels.require("stories260K-lora-qv");
        String base = text(BASE);
        String all = text("all");
        assertThat(all).isNotEqualTo(base).isEqualTo(direct("all", allDir));
        assertThat(base).isEqualTo(direct(null, null));

        // Chat runs under the base's template with the adapter; the response names the adapter.
        HttpResponse<String> chat = post("/v1/chat/completions", USER, "{\"model\":\"all\",\"messages\":[{\"role\":"
                + "\"user\",\"content\":\"Hi\"}],\"max_tokens\":4,\"temperature\":0}");
        assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
        assertThat(JSON.readTree(chat.body()).get("model").asString()).isEqualTo("all");

        // Loaded at run time by an admin key.
        HttpResponse<String> load = post("/v1/load_lora_adapter", ADMIN,
                "{\"lora_name\":\"qv\",\"lora_path\":\"" + qvDir + "\"}");
        assertThat(load.statusCode()).as(load.body()).isEqualTo(200);
        assertThat(load.body()).isEqualTo("Success: LoRA adapter 'qv' added successfully.");
        assertThat(load.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        String qv = text("qv");
        assertThat(qv).isNotEqualTo(base).isNotEqualTo(all).isEqualTo(direct("qv", qvDir));

        JsonNode models = get("/v1/models").get("data");
        assertThat(models.findValuesAsString("id")).containsExactly(BASE, "all", "qv");
        assertThat(models.get(0).get("parent").isNull()).isTrue();
        assertThat(models.get(0).get("root").asString()).isEqualTo(BASE);
        assertThat(models.get(1).get("parent").asString()).isEqualTo(BASE);
        assertThat(models.get(1).get("root").asString()).isEqualTo(allDir.toString());
        assertThat(get("/v1/models/qv").get("root").asString()).isEqualTo(qvDir.toString());
        assertThat(get("/v1/models/qv").get("parent").asString()).isEqualTo(BASE);

        // Loading again, or under a model's id, is refused.
        HttpResponse<String> again = post("/v1/load_lora_adapter", ADMIN,
                "{\"lora_name\":\"qv\",\"lora_path\":\"" + qvDir + "\"}");
        assertThat(again.statusCode()).isEqualTo(400);
        assertThat(again.body()).contains("already been loaded").contains("\"type\":\"invalid_request_error\"");
        HttpResponse<String> clash = post("/v1/load_lora_adapter", ADMIN,
                "{\"lora_name\":\"" + BASE + "\",\"lora_path\":\"" + qvDir + "\"}");
        assertThat(clash.statusCode()).isEqualTo(400);
        assertThat(clash.body()).contains("id of a served model");

        // Unloaded: the name is unknown again.
        HttpResponse<String> unload = post("/v1/unload_lora_adapter", ADMIN, "{\"lora_name\":\"qv\"}");
        assertThat(unload.statusCode()).as(unload.body()).isEqualTo(200);
        assertThat(unload.body()).isEqualTo("Success: LoRA adapter 'qv' removed successfully.");
        HttpResponse<String> gone = complete("qv");
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(gone.body()).contains("\"code\":\"model_not_found\"");
        assertThat(get("/v1/models").get("data").findValuesAsString("id")).containsExactly(BASE, "all");
        HttpResponse<String> twice = post("/v1/unload_lora_adapter", ADMIN, "{\"lora_name\":\"qv\"}");
        assertThat(twice.statusCode()).isEqualTo(404);
        assertThat(twice.body()).contains("\"code\":\"lora_adapter_not_found\"");
    }

    @Test
    void theOfficialJavaClientReachesAnAdapterByName() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl("http://localhost:" + port + "/v1").apiKey(USER)
                .build();
        Completion c = client.completions().create(CompletionCreateParams.builder().model("all").prompt(PROMPT)
                .maxTokens(MAX_TOKENS).temperature(0.0).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true))
                .build());
        assertThat(c.model()).isEqualTo("all");
        assertThat(c.choices().getFirst().text()).isEqualTo(direct("all", SharedModels.require("stories260K-lora-all")));

        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("all").addUserMessage("Tell me a story.").maxCompletionTokens(8)
                        .temperature(0.0).build())) {
            s.stream().forEach(chunk -> {
                assertThat(chunk.model()).isEqualTo("all");
                chunk.choices().forEach(ch -> ch.delta().content().ifPresent(streamed::append));
            });
        }
        assertThat(streamed).isNotEmpty();
        assertThat(client.models().list().data()).extracting(m -> m.id()).contains(BASE, "all");
        assertThat(client.models().retrieve("all")._additionalProperties().get("parent")).isEqualTo(JsonValue.from(BASE));
    }

    @Test
    void aBadAdapterIsRefusedNamingTheTensor() throws Exception {
        Path bad = SharedModels.require("stories260K-lora-bad-shape");
        HttpResponse<String> r = post("/v1/load_lora_adapter", ADMIN,
                "{\"lora_name\":\"bad\",\"lora_path\":\"" + bad + "\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertThat(error.get("type").asString()).isEqualTo("invalid_request_error");
        assertThat(error.get("param").asString()).isEqualTo("lora_path");
        assertThat(error.get("message").asString()).contains("adapter_model.safetensors",
                "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "[4, 72]");
        assertThat(post("/v1/load_lora_adapter", ADMIN, "{\"lora_name\":\"x\"}").body()).contains("lora_path is required");
        HttpResponse<String> noBase = post("/v1/load_lora_adapter", ADMIN, "{\"lora_name\":\"x\",\"lora_path\":\""
                + bad + "\",\"base_model_name\":\"nope\"}");
        assertThat(noBase.statusCode()).isEqualTo(404);
        assertThat(complete("bad").statusCode()).isEqualTo(404);
    }

    @Test
    void onlyAdminKeysChangeAdapters() throws Exception {
        Path qv = SharedModels.require("stories260K-lora-qv");
        String body = "{\"lora_name\":\"user-qv\",\"lora_path\":\"" + qv + "\"}";
        HttpResponse<String> user = post("/v1/load_lora_adapter", USER, body);
        assertThat(user.statusCode()).isEqualTo(403);
        assertThat(user.body()).contains("\"code\":\"permission_denied\"").contains("admin API key");
        assertThat(post("/v1/unload_lora_adapter", USER, "{\"lora_name\":\"all\"}").statusCode()).isEqualTo(403);
        assertThat(post("/v1/load_lora_adapter", null, body).statusCode()).isEqualTo(401);
        assertThat(complete("user-qv").statusCode()).isEqualTo(404);
        assertThat(text("all")).isNotEmpty(); // still served
    }

    @Test
    void metricsCountUnderTheAdapterName() throws Exception {
        text("all");
        var requests = registry.find("paddock.requests").tag("model", "all").tag("key", "app")
                .tag("finish_reason", "length").counter();
        assertThat(requests).isNotNull();
        assertThat(requests.count()).isGreaterThanOrEqualTo(1);
        assertThat(registry.find("paddock.generation.tokens").tag("model", "all").tag("key", "app").counter().count())
                .isGreaterThanOrEqualTo(MAX_TOKENS);
        assertThat(registry.find("paddock.lora.adapters.loaded").tag("model", BASE).gauge().value())
                .isGreaterThanOrEqualTo(1);
    }
}
