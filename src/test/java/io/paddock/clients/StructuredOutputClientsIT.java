package io.paddock.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.StructuredChatCompletion;
import com.openai.models.chat.completions.StructuredChatCompletionCreateParams;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Structured outputs and tool calling through unchanged third-party clients (openai-java, the {@code openai} npm
 * package), on the embedded demo model. The demo model has random weights: it never writes JSON or a tool call of
 * its own accord, so every check here holds only because the constraint made it hold. The checks are on structure
 * (parses, keys, JSON types, finish reasons, ids), never on content.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class StructuredOutputClientsIT {
    static final String MODEL = "paddock-demo-random";
    /** Room for the schema's JSON; a run that hits it fails, saying so, rather than passing on a truncated object. */
    static final long MAX_TOKENS = 400;

    /**
     * A random model almost never picks the one token that closes a JSON string among the hundreds that may continue
     * it (unbiased, a {@code title} ran to 400 tokens), nor EOS among the tokens that may start another parallel call.
     * The client nudges it with {@code logit_bias}: the constraint still decides what is valid, the bias only makes
     * the valid end likelier than the valid continuation.
     */
    static final int QUOTE_BIAS = 12, EOS_BIAS = 15;
    /** The demo model's {@code </s>} (its config's eos_token_id). */
    static final int DEMO_EOS = 2;

    private static final Path SCRIPT_DIR = Path.of("src/test/js");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    private OpenAIClient client;

    @BeforeEach
    void client() {
        client = OpenAIOkHttpClient.builder().baseUrl("http://localhost:" + port + "/v1").apiKey("not-needed")
                .maxRetries(0).build();
    }

    // ---- the class openai-java derives a strict JSON schema from -------------------------------------------------

    public enum Severity { LOW, MEDIUM, HIGH }

    public static class Assignee {
        public Long id;
        public Boolean active;
    }

    /**
     * A string, an integer, a boolean, an enum, a nested object and a list; boxed so a missing key shows as null. The
     * integers are {@code Long}: the grammar allows up to 16 digits, and a random model uses them.
     */
    @JsonClassDescription("A bug ticket")
    public static class Ticket {
        public String title;
        public Long priority;
        public Boolean open;
        public Severity severity;
        public Assignee assignee;
        public List<Severity> labels;
    }

    /** The demo tokenizer's id of {@code "}, from the server's own /tokenize. */
    private int quoteToken() throws Exception {
        var res = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://localhost:" + port + "/tokenize"))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"prompt\":\"a\\\"\",\"add_special_tokens\":false}"))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        JsonNode tokens = JSON.readTree(res.body()).get("tokens");
        return tokens.get(tokens.size() - 1).asInt();
    }

    private static ChatCompletionCreateParams.LogitBias bias(Map<Integer, Integer> biases) {
        var b = ChatCompletionCreateParams.LogitBias.builder();
        biases.forEach((token, value) -> b.putAdditionalProperty(String.valueOf(token), JsonValue.from(value)));
        return b.build();
    }

    private static ChatCompletionCreateParams.Builder chat(String prompt) {
        return ChatCompletionCreateParams.builder().model(MODEL).addUserMessage(prompt).maxCompletionTokens(MAX_TOKENS);
    }

    @Test
    void javaClientStructuredOutputParsesIntoTheClassForEverySeed() throws Exception {
        var closeStrings = bias(Map.of(quoteToken(), QUOTE_BIAS));
        for (long seed = 1; seed <= 5; seed++) {
            StructuredChatCompletionCreateParams<Ticket> params = chat("File a ticket for the crash.")
                    .temperature(1.0).seed(seed).logitBias(closeStrings).responseFormat(Ticket.class).build();
            StructuredChatCompletion<Ticket> completion = client.chat().completions().create(params);
            var choice = completion.choices().getFirst();
            String raw = completion.rawChatCompletion().choices().getFirst().message().content().orElse(null);
            assertThat(choice.finishReason().asString())
                    .as("seed %d: the JSON must close within %d tokens (finish_reason length means the constraint let"
                            + " it run on); content: %s", seed, MAX_TOKENS, raw)
                    .isEqualTo("stop");
            Ticket t = choice.message().content().orElseThrow();
            assertThat(t.title).as("seed %d title in %s", seed, raw).isNotNull();
            assertThat(t.priority).as("seed %d priority in %s", seed, raw).isNotNull();
            assertThat(t.open).as("seed %d open in %s", seed, raw).isNotNull();
            assertThat(t.severity).as("seed %d severity in %s", seed, raw).isNotNull();
            assertThat(t.assignee).as("seed %d assignee in %s", seed, raw).isNotNull();
            assertThat(t.assignee.id).as("seed %d assignee.id in %s", seed, raw).isNotNull();
            assertThat(t.assignee.active).as("seed %d assignee.active in %s", seed, raw).isNotNull();
            assertThat(t.labels).as("seed %d labels in %s", seed, raw).isNotNull().doesNotContainNull();
            // strict: exactly the schema's keys, nothing more
            JsonNode tree = JSON.readTree(raw);
            assertThat(tree.propertyNames()).as(raw)
                    .containsExactlyInAnyOrder("title", "priority", "open", "severity", "assignee", "labels");
            assertThat(tree.get("assignee").propertyNames()).as(raw).containsExactlyInAnyOrder("id", "active");
        }
    }

    @Test
    void javaClientJsonObjectModeAnswersAJsonObject() throws Exception {
        var closeStrings = bias(Map.of(quoteToken(), QUOTE_BIAS));
        for (long seed = 1; seed <= 3; seed++) {
            ChatCompletion completion = client.chat().completions().create(chat("Describe a cat in JSON.")
                    .temperature(1.0).seed(seed).logitBias(closeStrings)
                    .responseFormat(ResponseFormatJsonObject.builder().build()).build());
            var choice = completion.choices().getFirst();
            String content = choice.message().content().orElseThrow();
            assertThat(choice.finishReason().asString())
                    .as("seed %d: json_object must close within %d tokens; content: %s", seed, MAX_TOKENS, content)
                    .isEqualTo("stop");
            assertThat(JSON.readTree(content).isObject()).as(content).isTrue();
        }
    }

    // ---- tool calling through openai-java ------------------------------------------------------------------------

    @JsonClassDescription("Adds two integers")
    public static class AddNumbers {
        public Long a;
        public Long b;
    }

    @Test
    void javaClientToolCallArgumentsParseIntoTheClassStreamingAndNot() {
        ChatCompletionCreateParams params = chat("What is two plus three?").temperature(1.0).seed(11L)
                .logitBias(bias(Map.of(DEMO_EOS, EOS_BIAS))).addTool(AddNumbers.class).toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build();
        ChatCompletion whole = client.chat().completions().create(params);
        var choice = whole.choices().getFirst();
        assertThat(choice.finishReason().asString()).as("%s", whole).isEqualTo("tool_calls");
        assertThat(choice.message().content()).as("content beside tool calls is null, as OpenAI's").isEmpty();
        // parallel_tool_calls is left at its default (true): one call or several, each a whole AddNumbers call
        List<ChatCompletionMessageToolCall> calls = choice.message().toolCalls().orElseThrow();
        assertThat(calls).isNotEmpty();
        for (ChatCompletionMessageToolCall c : calls) {
            ChatCompletionMessageFunctionToolCall call = c.asFunction();
            assertThat(call.id()).isNotBlank();
            assertThat(call.function().name()).isEqualTo("AddNumbers");
            AddNumbers args = call.function().arguments(AddNumbers.class);
            assertThat(args.a).as(call.function().arguments()).isNotNull();
            assertThat(args.b).as(call.function().arguments()).isNotNull();
        }
        assertThat(calls.stream().map(c -> c.asFunction().id()).distinct()).hasSameSizeAs(calls);

        // the same request streamed, assembled by the SDK's accumulator, is the same calls
        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
            s.stream().forEach(acc::accumulate);
        }
        var streamed = acc.chatCompletion().choices().getFirst();
        assertThat(streamed.finishReason().asString()).isEqualTo("tool_calls");
        assertThat(streamed.message().toolCalls().orElseThrow().stream()
                        .map(c -> c.asFunction().function().name() + c.asFunction().function().arguments()))
                .containsExactlyElementsOf(calls.stream()
                        .map(c -> c.asFunction().function().name() + c.asFunction().function().arguments()).toList());
    }

    // ---- mistakes through a real client --------------------------------------------------------------------------

    @Test
    void unsupportedSchemaKeywordIsA400NamingIt() {
        var schema = ResponseFormatJsonSchema.JsonSchema.Schema.builder()
                .putAdditionalProperty("type", JsonValue.from("object"))
                .putAdditionalProperty("patternProperties", JsonValue.from(Map.of("^x_", Map.of("type", "string"))))
                .build();
        var format = ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder()
                .name("bad").strict(true).schema(schema).build()).build();
        assertThatThrownBy(() -> client.chat().completions().create(chat("hi").responseFormat(format).build()))
                .isInstanceOfSatisfying(BadRequestException.class,
                        e -> assertThat(e.getMessage()).contains("patternProperties"));
    }

    @Test
    void toolChoiceNamingAnUnknownFunctionIsA400() {
        var add = ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("add")
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("a", Map.of("type", "integer"))))
                        .build())
                .build()).build();
        var subtract = ChatCompletionToolChoiceOption.ofNamedToolChoice(ChatCompletionNamedToolChoice.builder()
                .function(ChatCompletionNamedToolChoice.Function.builder().name("subtract").build()).build());
        assertThatThrownBy(() -> client.chat().completions().create(chat("hi").addTool(add).toolChoice(subtract).build()))
                .isInstanceOfSatisfying(BadRequestException.class,
                        e -> assertThat(e.getMessage()).contains("subtract"));
    }

    // ---- the openai npm package: parse() with a json_schema, stream helpers assembling tool calls ------------------

    @Test
    void officialJavaScriptClientParsesStructuredOutputAndAssemblesStreamedToolCalls() throws Exception {
        assumeTrue(Files.isDirectory(SCRIPT_DIR.resolve("node_modules/openai")),
                "skipped: the openai npm package is not installed (run: npm install --prefix src/test/js)");
        assumeTrue(new ProcessBuilder("node", "--version").start().waitFor() == 0, "skipped: node is not installed");
        Process p = new ProcessBuilder("node", "structured-output.mjs", "http://localhost:" + port + "/v1", MODEL,
                String.valueOf(MAX_TOKENS), quoteToken() + ":" + QUOTE_BIAS, DEMO_EOS + ":" + EOS_BIAS).directory(SCRIPT_DIR.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("all checks passed");
    }
}
