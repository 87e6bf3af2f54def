package io.paddock.model;

import io.paddock.format.DType;
import io.paddock.format.ModelLoadException;
import io.paddock.format.Tensor;
import io.paddock.format.WeightStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A LLaMA model directory opened for inference: its configs and its weights, validated tensor by tensor.
 * Owns the memory mappings; closing it unmaps the weights.
 */
public record LlamaCheckpoint(Path directory, LlamaConfig config, GenerationConfig generationConfig,
        LlamaWeights weights, WeightStore store) implements AutoCloseable {

    private static final Set<DType> FLOATS = EnumSet.of(DType.F32, DType.F16, DType.BF16);

    /** Opens and validates {@code dir}; every problem is a {@link ModelLoadException} naming file and tensor. */
    public static LlamaCheckpoint open(Path dir) {
        return open(dir, GptqOverrides.NONE);
    }

    /**
     * Opens {@code dir} with user-given GPTQ settings, which replace those of {@code quantize_config.json} or
     * {@code config.json}, and which a GPTQ directory without either file needs. Giving any for a dense
     * checkpoint is an error rather than silently ignored.
     */
    public static LlamaCheckpoint open(Path dir, GptqOverrides overrides) {
        if (!Files.isDirectory(dir)) throw new ModelLoadException(dir + ": model directory not found");
        LlamaConfig config = LlamaConfig.load(dir);
        GenerationConfig generation = GenerationConfig.load(dir);
        WeightStore store = WeightStore.open(dir);
        try {
            return new LlamaCheckpoint(dir, config, generation, loadWeights(dir, config, store, overrides), store);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** The GPTQ settings of the linear layers, or empty for a dense checkpoint. */
    public Optional<GptqSpec> gptqSpec() {
        return weights.layers().isEmpty() || !(weights.layers().getFirst().q() instanceof GptqLinear g)
                ? Optional.empty() : Optional.of(g.spec());
    }

    static LlamaWeights loadWeights(LlamaConfig c, WeightStore store) {
        return loadWeights(store.directory(), c, store, GptqOverrides.NONE);
    }

    static LlamaWeights loadWeights(Path dir, LlamaConfig c, WeightStore store, GptqOverrides overrides) {
        GptqOverrides o = overrides == null ? GptqOverrides.NONE : overrides;
        LinearLoader linear;
        if (GptqLoader.isGptq(store)) {
            GptqSettings settings = GptqLoader.settings(dir, c, store, o);
            linear = (name, out, in) -> gptq(store, name, out, in, settings);
        } else {
            if (!o.isEmpty()) {
                throw new ModelLoadException(store.files().getFirst().getFileName() + ": GPTQ options ("
                        + o.describe() + ") were given, but this checkpoint has dense weights (no *.qweight tensors)");
            }
            linear = (name, out, in) -> dense(store, name + ".weight", out, in);
        }
        int h = c.hiddenSize(), qDim = c.numHeads() * c.headDim(), kvDim = c.numKvHeads() * c.headDim();
        int ff = c.intermediateSize();
        Tensor embedding = store.require("model.embed_tokens.weight", FLOATS, c.vocabSize(), h);
        List<LayerWeights> layers = new ArrayList<>(c.numLayers());
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new LayerWeights(
                    norm(store, p + "input_layernorm.weight", h),
                    linear.load(p + "self_attn.q_proj", qDim, h),
                    linear.load(p + "self_attn.k_proj", kvDim, h),
                    linear.load(p + "self_attn.v_proj", kvDim, h),
                    linear.load(p + "self_attn.o_proj", h, qDim),
                    norm(store, p + "post_attention_layernorm.weight", h),
                    linear.load(p + "mlp.gate_proj", ff, h),
                    linear.load(p + "mlp.up_proj", ff, h),
                    linear.load(p + "mlp.down_proj", h, ff)));
        }
        float[] finalNorm = norm(store, "model.norm.weight", h);
        Linear lmHead;
        if (store.contains("lm_head" + GptqLoader.QWEIGHT)) {
            throw new ModelLoadException(store.info("lm_head" + GptqLoader.QWEIGHT).file().getFileName()
                    + ": tensor 'lm_head.qweight': a GPTQ-quantized output layer is not supported (lm_head must be "
                    + "stored dense, as AutoGPTQ writes it)");
        } else if (store.contains("lm_head.weight")) {
            lmHead = dense(store, "lm_head.weight", c.vocabSize(), h);
        } else if (c.tieWordEmbeddings()) {
            lmHead = new DenseLinear(embedding);
        } else {
            throw new ModelLoadException(store.files().getFirst().getFileName()
                    + ": tensor 'lm_head.weight' is missing and config.json does not set tie_word_embeddings");
        }
        return new LlamaWeights(c, embedding, List.copyOf(layers), finalNorm, lmHead);
    }

    /** One linear layer by its prefix, e.g. {@code model.layers.0.self_attn.q_proj}, (out, in) from the config. */
    @FunctionalInterface
    private interface LinearLoader {
        Linear load(String name, int out, int in);
    }

    /** Mixed checkpoints (some layers dense, some GPTQ) are refused: no runtime path handles both in one model. */
    private static GptqLinear gptq(WeightStore store, String name, int out, int in, GptqSettings settings) {
        String dense = name + ".weight", packed = name + GptqLoader.QWEIGHT;
        if (store.contains(dense)) {
            String file = store.info(dense).file().getFileName().toString();
            throw new ModelLoadException(file + ": tensor '" + dense + "' is dense ("
                    + store.info(dense).dtype() + ") in a GPTQ checkpoint" + (store.contains(packed)
                            ? " that also has '" + packed + "'; which one to use is ambiguous"
                            : "; mixed dense and GPTQ linear layers are not supported"));
        }
        return GptqLoader.linear(store, name, out, in, settings);
    }

    private static DenseLinear dense(WeightStore store, String name, int out, int in) {
        return new DenseLinear(store.require(name, FLOATS, out, in));
    }

    private static float[] norm(WeightStore store, String name, int n) {
        return store.require(name, FLOATS, n).toFloatArray();
    }

    @Override
    public void close() {
        store.close();
    }
}
