package io.paddock.engine;

import static io.paddock.testing.EngineTesting.awaitIdle;
import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.loading.LoadedModel;
import io.paddock.model.DemoModel;
import io.paddock.sampling.Sample;
import io.paddock.sampling.SamplingParams;
import io.paddock.structured.Grammar;
import io.paddock.structured.Grammars;
import io.paddock.testing.RandomSchemas;
import io.paddock.testing.SharedModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Constrained decoding through the engine: the grammar is applied per sequence, in batches that mix constrained and
 * free sequences, under preemption, with streaming and {@code n > 1}, and a complete grammar ends its sequence.
 */
class EngineGrammarTests {
    @TempDir
    static Path cache;

    private static final JsonMapper JSON = JsonMapper.shared();

    /** A schema whose outputs are bounded (short strings, bounded arrays), so every run can complete. */
    static final String PERSON = """
            {"type": "object",
             "properties": {
               "name": {"type": "string", "maxLength": 12},
               "age": {"type": "integer"},
               "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "maxItems": 3},
               "admin": {"type": "boolean"},
               "boss": {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 8}]}
             },
             "required": ["name", "age", "tags", "admin", "boss"],
             "additionalProperties": false}""";

    private static LoadedModel demo() {
        return LoadedModel.load(DemoModel.ID, DemoModel.DESCRIPTION, DemoModel.materialize(cache), 1);
    }

    private static Grammar person() {
        return Grammars.jsonSchema(JSON.readTree(PERSON));
    }

    /** The checks {@link #PERSON} makes, written out: a test of the grammar that does not reuse the grammar. */
    static void assertPerson(String text) {
        JsonNode n = JSON.readTree(text);
        assertThat(n.isObject()).as(text).isTrue();
        assertThat(n.propertyNames()).as(text).containsExactlyInAnyOrder("name", "age", "tags", "admin", "boss");
        assertThat(n.get("name").isString()).as(text).isTrue();
        assertThat(n.get("name").asString().codePointCount(0, n.get("name").asString().length())).isLessThanOrEqualTo(12);
        assertThat(n.get("age").isIntegralNumber()).as(text).isTrue();
        assertThat(n.get("tags").isArray()).as(text).isTrue();
        assertThat(n.get("tags").size()).as(text).isLessThanOrEqualTo(3);
        for (JsonNode t : n.get("tags")) assertThat(t.asString()).as(text).isIn("red", "green", "blue");
        assertThat(n.get("admin").isBoolean()).as(text).isTrue();
        assertThat(n.get("boss").isNull() || n.get("boss").isString()).as(text).isTrue();
    }

    record Streamed(GenerationResult result, String text) {}

    private static CompletableFuture<Streamed> stream(GenerationService g, GenerationRequest r) {
        CompletableFuture<Streamed> f = new CompletableFuture<>();
        StringBuilder text = new StringBuilder();
        g.stream(r, new EngineListener() {
            @Override public void onText(String delta, int[] ids, List<Sample> samples) { text.append(delta); }
            @Override public void onFinish(GenerationResult res) { f.complete(new Streamed(res, text.toString())); }
            @Override public void onError(RuntimeException e) { f.completeExceptionally(e); }
        });
        return f;
    }

    @Test
    void aCompleteGrammarEndsTheSequenceWithStopEvenWhenEosIsIgnored() throws Exception {
        try (GenerationService g = new GenerationService(demo(), new EngineConfig(16, 0, 4, 512, true, 8))) {
            LoadedModel m = g.model();
            GenerationRequest r = new GenerationRequest(m.encodePrompt("Say it:"), 200,
                    SamplingParams.builder().temperature(1.0f).seed(3L).build(), List.of(), true)
                    .withGrammar(Grammars.literal("hello, world"));
            Streamed s = stream(g, r).get(60, TimeUnit.SECONDS);
            assertThat(s.result().finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(s.result().text()).isEqualTo("hello, world");
            assertThat(s.text()).isEqualTo("hello, world");
            assertThat(awaitIdle(g).blocksUsed()).isZero();
        }
    }

    @Test
    void sampledOutputsFollowTheSchemaOnEveryModelAndSeed() throws Exception {
        List<LoadedModel> models = new ArrayList<>(List.of(demo()));
        if (SharedModels.available("stories260K")) {
            models.add(LoadedModel.load("stories260K", "test", SharedModels.require("stories260K"), 1));
        }
        for (LoadedModel model : models) {
            try (GenerationService g = new GenerationService(model, new EngineConfig(16, 0, 8, 512, true, 64))) {
                List<CompletableFuture<Streamed>> runs = new ArrayList<>();
                for (int seed = 0; seed < 16; seed++) {
                    SamplingParams p = SamplingParams.builder().temperature(1.0f).topP(seed % 2 == 0 ? 1f : 0.9f)
                            .presencePenalty(seed % 3 == 0 ? 0.5f : 0f).seed((long) seed).build();
                    runs.add(stream(g, new GenerationRequest(model.encodePrompt("Once upon a time"), 400, p, List.of(),
                            false).withGrammar(person())));
                }
                for (CompletableFuture<Streamed> f : runs) {
                    Streamed s = f.get(120, TimeUnit.SECONDS);
                    assertThat(s.result().finishReason()).as(model.id() + ": " + s.text()).isEqualTo(FinishReason.STOP);
                    assertThat(s.text()).isEqualTo(s.result().text());
                    assertPerson(s.result().text());
                }
                assertThat(awaitIdle(g).blocksUsed()).isZero();
            }
        }
    }

    /**
     * The property the API promises: for random schemas of the supported subset and random seeds at temperature 1,
     * every completion that was not cut by max_tokens parses and validates (an independent validator, networknt).
     * Meaningless models are the hardest case: nothing but the constraint makes their output JSON.
     */
    @Test
    void randomSchemasAndSeedsAtTemperatureOneAlwaysValidate() throws Exception {
        SchemaRegistry validators = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
        List<LoadedModel> models = new ArrayList<>(List.of(demo()));
        if (SharedModels.available("stories260K")) {
            models.add(LoadedModel.load("stories260K", "test", SharedModels.require("stories260K"), 1));
        }
        SplittableRandom r = new SplittableRandom(2026);
        for (LoadedModel model : models) {
            int stopped = 0, cut = 0;
            try (GenerationService g = new GenerationService(model, new EngineConfig(16, 0, 16, 512, true, 256))) {
                record Run(JsonNode schema, CompletableFuture<Streamed> result) {}
                List<Run> runs = new ArrayList<>();
                for (int i = 0; i < 24; i++) {
                    JsonNode schema = RandomSchemas.randomSchema(r);
                    Grammar grammar = Grammars.jsonSchema(schema);
                    for (int seed = 0; seed < 2; seed++) {
                        SamplingParams p = SamplingParams.builder().temperature(1.0f).seed(r.nextLong()).build();
                        runs.add(new Run(schema, stream(g, new GenerationRequest(model.encodePrompt("Tell me"), 160, p,
                                List.of(), false).withGrammar(grammar))));
                    }
                }
                for (Run run : runs) {
                    Streamed s = run.result().get(120, TimeUnit.SECONDS);
                    String text = s.result().text();
                    assertThat(s.text()).isEqualTo(text);
                    if (s.result().finishReason() == FinishReason.LENGTH) {
                        cut++;
                        continue;
                    }
                    assertThat(s.result().finishReason()).isEqualTo(FinishReason.STOP);
                    stopped++;
                    Schema validator = validators.getSchema(run.schema().toString());
                    assertThat(validator.validate(text, InputFormat.JSON)).as(model.id() + ": " + text + " against "
                            + run.schema()).isEmpty();
                }
                assertThat(awaitIdle(g).blocksUsed()).isZero();
            }
            assertThat(stopped).as(model.id() + ": completions that ended on their own (" + cut + " cut by max_tokens)")
                    .isGreaterThan(cut);
        }
    }

    @Test
    void constrainedAndFreeSequencesShareBatchesAndSurvivePreemption() throws Exception {
        LoadedModel probe = demo();
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            GenerationRequest r = new GenerationRequest(probe.encodePrompt("request " + i + " says"), 60,
                    SamplingParams.greedy(), List.of(), true);
            requests.add(i % 2 == 0 ? r.withGrammar(i % 4 == 0 ? person() : Grammars.anyJsonObject()) : r);
        }
        probe.close();
        List<Streamed> alone = new ArrayList<>();
        try (GenerationService g = new GenerationService(demo(), new EngineConfig(16, 0, 1, 512, false, 64))) {
            for (GenerationRequest r : requests) alone.add(stream(g, r).get(60, TimeUnit.SECONDS));
        }
        // Together, on a pool too small for all of them: sequences are preempted and recomputed.
        try (GenerationService g = new GenerationService(demo(), new EngineConfig(16, 16L * 16 * 1024, 12, 64, true, 64))) {
            List<CompletableFuture<Streamed>> together = new ArrayList<>();
            for (GenerationRequest r : requests) together.add(stream(g, r));
            for (int i = 0; i < requests.size(); i++) {
                Streamed s = together.get(i).get(120, TimeUnit.SECONDS);
                assertThat(s.result().tokens()).as("request " + i).isEqualTo(alone.get(i).result().tokens());
                if (i % 4 == 0 && s.result().finishReason() == FinishReason.STOP) assertPerson(s.result().text());
                if (i % 4 == 2 && s.result().finishReason() == FinishReason.STOP) {
                    assertThat(JSON.readTree(s.result().text()).isObject()).isTrue();
                }
            }
            assertThat(g.stats().preemptions()).as("the pool was meant to force preemption").isPositive();
            assertThat(awaitIdle(g).blocksUsed()).isZero();
        }
    }

    @Test
    void eachSampleOfOneRequestFollowsTheGrammarOnItsOwn() throws Exception {
        try (GenerationService g = new GenerationService(demo(), new EngineConfig(16, 0, 8, 512, true, 64))) {
            LoadedModel m = g.model();
            List<GenerationRequest> samples = new ArrayList<>();
            List<CompletableFuture<Streamed>> results = new ArrayList<>();
            List<EngineListener> listeners = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                samples.add(new GenerationRequest(m.encodePrompt("Four samples"), 400,
                        SamplingParams.builder().temperature(1.0f).seed(40L + i).build(), List.of(), false)
                        .withGrammar(person()));
                CompletableFuture<Streamed> f = new CompletableFuture<>();
                results.add(f);
                listeners.add(new EngineListener() {
                    final StringBuilder text = new StringBuilder();
                    @Override public void onText(String delta, int[] ids, List<Sample> s) { text.append(delta); }
                    @Override public void onFinish(GenerationResult r) { f.complete(new Streamed(r, text.toString())); }
                    @Override public void onError(RuntimeException e) { f.completeExceptionally(e); }
                });
            }
            g.streamSamples(samples, listeners);
            List<String> texts = new ArrayList<>();
            for (CompletableFuture<Streamed> f : results) {
                Streamed s = f.get(60, TimeUnit.SECONDS);
                assertThat(s.result().finishReason()).isEqualTo(FinishReason.STOP);
                assertPerson(s.text());
                texts.add(s.text());
            }
            assertThat(texts).as("four seeds, four different objects").doesNotHaveDuplicates();
        }
    }
}
