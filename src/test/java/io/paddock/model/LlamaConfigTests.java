package io.paddock.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.format.ModelLoadException;
import io.paddock.testing.SharedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlamaConfigTests {

    private static final String MINIMAL = """
            {"model_type":"llama","hidden_size":4096,"intermediate_size":11008,"num_hidden_layers":32,
             "num_attention_heads":32,"vocab_size":32000}""";

    @TempDir
    Path tmp;

    @Test
    void loadsTheStories260KFixture() {
        LlamaConfig c = LlamaConfig.load(SharedModels.require("stories260K"));
        assertThat(c.hiddenSize()).isEqualTo(64);
        assertThat(c.intermediateSize()).isEqualTo(172);
        assertThat(c.numLayers()).isEqualTo(5);
        assertThat(c.numHeads()).isEqualTo(8);
        assertThat(c.numKvHeads()).isEqualTo(4);
        assertThat(c.headDim()).isEqualTo(8);
        assertThat(c.kvDim()).isEqualTo(32);
        assertThat(c.queriesPerKvHead()).isEqualTo(2);
        assertThat(c.vocabSize()).isEqualTo(512);
        assertThat(c.maxPositionEmbeddings()).isEqualTo(512);
        assertThat(c.rmsNormEps()).isEqualTo(1e-5f);
        assertThat(c.ropeTheta()).isEqualTo(10000f);
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.bosId()).isEqualTo(1);
        assertThat(c.eosId()).isEqualTo(2);
        assertThat(c.eosIds()).containsExactly(2);
        assertThat(c.torchDtype()).isEqualTo("float32");
        assertThat(c.quantizationConfig()).isEmpty();
        assertThat(c.raw().get("hidden_act").asString()).isEqualTo("silu");
    }

    @Test
    void loadsEveryFixtureDirectory() {
        for (String name : List.of("stories260K-f16", "stories260K-padded", "stories260K-gptq-4bit-32g-actorder",
                "stories260K-gptq-legacy-4bit-32g")) {
            LlamaConfig c = LlamaConfig.load(SharedModels.require(name));
            assertThat(c.torchDtype()).as(name).isEqualTo("float16");
        }
        LlamaConfig gptq = LlamaConfig.load(SharedModels.require("stories260K-gptq-4bit-32g-actorder"));
        assertThat(gptq.intermediateSize()).isEqualTo(192);
        assertThat(gptq.quantizationConfig()).get().extracting(q -> q.get("bits").asInt()).isEqualTo(4);
        assertThat(LlamaConfig.load(SharedModels.require("stories260K-gptq-legacy-4bit-32g")).quantizationConfig())
                .isEmpty();
    }

    @Test
    void appliesTransformersDefaults() {
        LlamaConfig c = LlamaConfig.parse(MINIMAL, "config.json");
        assertThat(c.numKvHeads()).isEqualTo(32);
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.maxPositionEmbeddings()).isEqualTo(2048);
        assertThat(c.rmsNormEps()).isEqualTo(1e-6f);
        assertThat(c.ropeTheta()).isEqualTo(10000f);
        assertThat(c.tieWordEmbeddings()).isFalse();
        assertThat(c.bosId()).isEqualTo(1);
        assertThat(c.eosIds()).containsExactly(2);
        assertThat(c.torchDtype()).isEqualTo("float32");
    }

    @Test
    void acceptsEosListsExplicitHeadDimAndOldSpellings() {
        LlamaConfig c = LlamaConfig.parse("""
                {"architectures":["LLaMAForCausalLM"],"hidden_size":64,"intermediate_size":128,
                 "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":32,
                 "vocab_size":100,"max_sequence_length":4096,"eos_token_id":[2, 7],"bos_token_id":null,
                 "dtype":"bfloat16","rope_parameters":{"rope_theta":500000.0,"rope_type":"default"}}""",
                "config.json");
        assertThat(c.headDim()).isEqualTo(32);
        assertThat(c.qDim()).isEqualTo(128);
        assertThat(c.eosId()).isEqualTo(2);
        assertThat(c.eosIds()).containsExactly(2, 7);
        assertThat(c.bosId()).isEqualTo(1);
        assertThat(c.maxPositionEmbeddings()).isEqualTo(4096);
        assertThat(c.torchDtype()).isEqualTo("bfloat16");
        assertThat(c.ropeTheta()).isEqualTo(500000f);
    }

    @Test
    void rejectsOtherArchitectures() {
        assertThatThrownBy(() -> LlamaConfig.parse(MINIMAL.replace("\"llama\"", "\"mistral\""), "config.json"))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith("config.json: field 'model_type' is \"mistral\"; paddock supports only LLaMA");
        String gpt2 = MINIMAL.replace("\"model_type\":\"llama\"", "\"architectures\":[\"GPT2LMHeadModel\"]");
        assertThatThrownBy(() -> LlamaConfig.parse(gpt2, "config.json"))
                .hasMessage("config.json: field 'architectures' is [GPT2LMHeadModel]; paddock supports only "
                        + "LlamaForCausalLM");
        String classifier = MINIMAL.replace("\"model_type\":\"llama\"",
                "\"model_type\":\"llama\",\"architectures\":[\"LlamaForSequenceClassification\"]");
        assertThatThrownBy(() -> LlamaConfig.parse(classifier, "config.json"))
                .hasMessageContaining("field 'architectures'");
        String unknown = MINIMAL.replace("\"model_type\":\"llama\",", "");
        assertThatThrownBy(() -> LlamaConfig.parse(unknown, "config.json"))
                .hasMessageStartingWith("config.json: neither 'model_type' nor 'architectures' is set");
    }

    @Test
    void validatesFieldsNamingThem() {
        String[][] cases = {
            {MINIMAL.replace("\"hidden_size\":4096,", ""), "config.json: missing required field 'hidden_size'"},
            {MINIMAL.replace("4096", "\"big\""), "config.json: field 'hidden_size' must be an integer, got \"big\""},
            {MINIMAL.replace("4096", "4096.5"), "config.json: field 'hidden_size' must be an integer, got 4096.5"},
            {MINIMAL.replace("\"num_attention_heads\":32", "\"num_attention_heads\":0"),
                "config.json: field 'num_attention_heads' must be positive, got 0"},
            {MINIMAL.replace("\"num_attention_heads\":32", "\"num_attention_heads\":30"),
                "config.json: field 'num_attention_heads' (30) must divide hidden_size (4096)"},
            {MINIMAL.replace("\"num_attention_heads\":32", "\"num_attention_heads\":32,\"num_key_value_heads\":5"),
                "config.json: field 'num_key_value_heads' (5) must divide num_attention_heads (32)"},
            {MINIMAL.replace("\"num_attention_heads\":32", "\"num_attention_heads\":32,\"head_dim\":7"),
                "config.json: field 'head_dim' gives an odd head_dim 7; rotary embeddings need an even one"},
            {MINIMAL.replace("\"vocab_size\":32000", "\"vocab_size\":32000,\"eos_token_id\":[2,32000]"),
                "config.json: field 'eos_token_id' (32000) is outside the vocabulary [0, 32000)"},
            {MINIMAL.replace("\"vocab_size\":32000", "\"vocab_size\":32000,\"rms_norm_eps\":0"),
                "config.json: field 'rms_norm_eps' must be a positive number, got 0.0"},
            {MINIMAL.replace("\"vocab_size\":32000", "\"vocab_size\":32000,\"tie_word_embeddings\":\"yes\""),
                "config.json: field 'tie_word_embeddings' must be true or false, got \"yes\""},
            {"{\"model_type\":", "config.json: invalid JSON"},
            {"[]", "config.json: expected a JSON object"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> LlamaConfig.parse(c[0], "config.json"))
                    .as(c[0])
                    .isInstanceOf(ModelLoadException.class)
                    .hasMessageStartingWith(c[1]);
        }
    }

    @Test
    void acceptsIntegralFloatsForInts() {
        assertThat(LlamaConfig.parse(MINIMAL.replace("4096", "4096.0"), "config.json").hiddenSize()).isEqualTo(4096);
    }

    @Test
    void missingDirectoryOrConfigIsNamed() throws IOException {
        Path none = tmp.resolve("none");
        assertThatThrownBy(() -> LlamaConfig.load(none))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("model directory " + none + " does not exist or is not a directory");
        assertThatThrownBy(() -> LlamaConfig.load(tmp))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("config.json: not found in model directory " + tmp);
        Files.writeString(tmp.resolve("config.json"), "{oops");
        assertThatThrownBy(() -> LlamaConfig.load(tmp)).hasMessageStartingWith("config.json: invalid JSON");
    }
}
