package io.paddock.model;

import io.paddock.format.ModelLoadException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * The architecture hyper-parameters of a LLaMA-family model, from a Hugging Face {@code config.json}. Defaults
 * follow transformers' {@code LlamaConfig} where a field is absent. Only LLaMA is accepted: {@code model_type}
 * "llama" and/or {@code architectures} containing "LlamaForCausalLM"; anything else is rejected here rather than
 * producing garbage later.
 *
 * @param eosId the first of {@code eosIds}
 * @param raw   the whole config.json, for blocks read elsewhere ({@code quantization_config}, {@code rope_scaling})
 */
public record LlamaConfig(
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositionEmbeddings,
        float rmsNormEps,
        float ropeTheta,
        boolean tieWordEmbeddings,
        int bosId,
        int eosId,
        List<Integer> eosIds,
        String torchDtype,
        JsonNode raw) {

    public static final String FILE_NAME = "config.json";

    static final int DEFAULT_MAX_POSITIONS = 2048;
    static final float DEFAULT_RMS_NORM_EPS = 1e-6f;
    static final float DEFAULT_ROPE_THETA = 10000f;
    static final int DEFAULT_BOS = 1;
    static final int DEFAULT_EOS = 2;

    public LlamaConfig {
        eosIds = List.copyOf(eosIds);
    }

    /** Reads {@code modelDir/config.json}. */
    public static LlamaConfig load(Path modelDir) {
        ConfigJson.requireDirectory(modelDir);
        return parse(ConfigJson.read(modelDir.resolve(FILE_NAME)), FILE_NAME);
    }

    /** @param sourceName the file name to use in error messages, normally "config.json" */
    public static LlamaConfig parse(String json, String sourceName) {
        ConfigJson c = ConfigJson.parse(json, sourceName);
        checkArchitecture(c);

        int hidden = positive(c, "hidden_size", c.requireInt("hidden_size"));
        int intermediate = positive(c, "intermediate_size", c.requireInt("intermediate_size"));
        int layers = positive(c, "num_hidden_layers", c.requireInt("num_hidden_layers"));
        int heads = positive(c, "num_attention_heads", c.requireInt("num_attention_heads"));
        int vocab = positive(c, "vocab_size", c.requireInt("vocab_size"));

        Integer kvField = c.optInt("num_key_value_heads");
        int kvHeads = kvField == null ? heads : positive(c, "num_key_value_heads", kvField);
        if (heads % kvHeads != 0) {
            throw c.error("num_key_value_heads", "(" + kvHeads + ") must divide num_attention_heads (" + heads + ")");
        }
        Integer headDimField = c.optInt("head_dim");
        int headDim;
        if (headDimField == null) {
            if (hidden % heads != 0) {
                throw c.error("num_attention_heads", "(" + heads + ") must divide hidden_size (" + hidden + ")");
            }
            headDim = hidden / heads;
        } else {
            headDim = positive(c, "head_dim", headDimField);
        }
        if (headDim % 2 != 0) {
            // RoPE rotates pairs of dimensions
            throw c.error(headDimField == null ? "hidden_size" : "head_dim", "gives an odd head_dim " + headDim
                    + "; rotary embeddings need an even one");
        }

        int maxPositions = firstNonNull(c.optInt("max_position_embeddings"), c.optInt("max_sequence_length"),
                DEFAULT_MAX_POSITIONS);
        positive(c, "max_position_embeddings", maxPositions);

        float eps = firstNonNull(c.optFloat("rms_norm_eps"), null, DEFAULT_RMS_NORM_EPS);
        if (!(eps > 0) || !Float.isFinite(eps)) throw c.error("rms_norm_eps", "must be a positive number, got " + eps);
        float theta = firstNonNull(c.optFloat("rope_theta"), ropeParametersTheta(c), DEFAULT_ROPE_THETA);
        if (!(theta > 0) || !Float.isFinite(theta)) throw c.error("rope_theta", "must be a positive number, got " + theta);

        boolean tie = firstNonNull(c.optBoolean("tie_word_embeddings"), null, false);

        int bos = firstNonNull(c.optInt("bos_token_id"), null, DEFAULT_BOS);
        tokenId(c, "bos_token_id", bos, vocab);
        List<Integer> eos = c.intOrList("eos_token_id");
        if (eos.isEmpty()) eos = List.of(DEFAULT_EOS);
        for (int id : eos) tokenId(c, "eos_token_id", id, vocab);

        String dtype = firstNonNull(c.optString("torch_dtype"), c.optString("dtype"), "float32");

        return new LlamaConfig(hidden, intermediate, layers, heads, kvHeads, headDim, vocab, maxPositions, eps,
                theta, tie, bos, eos.getFirst(), eos, dtype, c.root());
    }

    /** Width of the key (and value) projection output. */
    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Width of the query projection output; equals hiddenSize unless head_dim was set explicitly. */
    public int qDim() {
        return numHeads * headDim;
    }

    /** Query heads sharing one key/value head (1 without grouped-query attention). */
    public int queriesPerKvHead() {
        return numHeads / numKvHeads;
    }

    /** The {@code quantization_config} block, when config.json carries one (AutoGPTQ, transformers GPTQ). */
    public Optional<JsonNode> quantizationConfig() {
        JsonNode q = raw == null ? null : raw.get("quantization_config");
        return q == null || q.isNull() ? Optional.empty() : Optional.of(q);
    }

    private static void checkArchitecture(ConfigJson c) {
        String modelType = c.optString("model_type");
        JsonNode archs = c.root().get("architectures");
        List<String> archNames = archs == null || !archs.isArray() ? List.of()
                : archs.values().stream().map(JsonNode::asString).toList();
        if (modelType != null && !modelType.equalsIgnoreCase("llama")) {
            throw c.error("model_type", "is \"" + modelType + "\"; paddock supports only LLaMA models (model_type "
                    + "\"llama\", architectures [\"LlamaForCausalLM\"])");
        }
        // "LLaMAForCausalLM" appears in configs written by early conversion scripts
        boolean causalLlama = archNames.stream().anyMatch(a -> a.toLowerCase(Locale.ROOT).equals("llamaforcausallm"));
        if (!archNames.isEmpty() && !causalLlama) {
            throw c.error("architectures", "is " + archNames + "; paddock supports only LlamaForCausalLM");
        }
        if (modelType == null && archNames.isEmpty()) {
            throw new ModelLoadException(c.source() + ": neither 'model_type' nor 'architectures' is set; cannot tell "
                    + "whether this is a LLaMA model");
        }
    }

    private static Float ropeParametersTheta(ConfigJson c) {
        // transformers 5 moved rope_theta into a rope_parameters block
        JsonNode p = c.root().get("rope_parameters");
        JsonNode t = p == null ? null : p.get("rope_theta");
        if (t == null || t.isNull()) return null;
        if (!t.isNumber()) throw c.error("rope_parameters.rope_theta", "must be a number, got " + t);
        return t.floatValue();
    }

    private static int positive(ConfigJson c, String field, int value) {
        if (value <= 0) throw c.error(field, "must be positive, got " + value);
        return value;
    }

    private static void tokenId(ConfigJson c, String field, int id, int vocab) {
        if (id < 0 || id >= vocab) throw c.error(field, "(" + id + ") is outside the vocabulary [0, " + vocab + ")");
    }

    private static <T> T firstNonNull(T a, T b, T fallback) {
        return a != null ? a : b != null ? b : fallback;
    }
}
