package io.paddock.model;

import io.paddock.format.DType;
import io.paddock.format.Tensor;
import io.paddock.format.WeightStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
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
        if (!Files.isDirectory(dir)) throw new ModelLoadException(dir + ": model directory not found");
        LlamaConfig config = LlamaConfig.load(dir);
        GenerationConfig generation = GenerationConfig.load(dir);
        WeightStore store = WeightStore.open(dir);
        try {
            return new LlamaCheckpoint(dir, config, generation, loadWeights(config, store), store);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    static LlamaWeights loadWeights(LlamaConfig c, WeightStore store) {
        if (store.contains("model.layers.0.self_attn.q_proj.qweight")) {
            throw new ModelLoadException(store.files().getFirst().getFileName()
                    + ": this is a GPTQ-quantized checkpoint (tensor 'model.layers.0.self_attn.q_proj.qweight'),"
                    + " which this build does not load yet");
        }
        int h = c.hiddenSize(), qDim = c.numHeads() * c.headDim(), kvDim = c.numKvHeads() * c.headDim();
        int ff = c.intermediateSize();
        Tensor embedding = store.require("model.embed_tokens.weight", FLOATS, c.vocabSize(), h);
        List<LayerWeights> layers = new ArrayList<>(c.numLayers());
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new LayerWeights(
                    norm(store, p + "input_layernorm.weight", h),
                    dense(store, p + "self_attn.q_proj.weight", qDim, h),
                    dense(store, p + "self_attn.k_proj.weight", kvDim, h),
                    dense(store, p + "self_attn.v_proj.weight", kvDim, h),
                    dense(store, p + "self_attn.o_proj.weight", h, qDim),
                    norm(store, p + "post_attention_layernorm.weight", h),
                    dense(store, p + "mlp.gate_proj.weight", ff, h),
                    dense(store, p + "mlp.up_proj.weight", ff, h),
                    dense(store, p + "mlp.down_proj.weight", h, ff)));
        }
        float[] finalNorm = norm(store, "model.norm.weight", h);
        Linear lmHead;
        if (store.contains("lm_head.weight")) {
            lmHead = dense(store, "lm_head.weight", c.vocabSize(), h);
        } else if (c.tieWordEmbeddings()) {
            lmHead = new DenseLinear(embedding);
        } else {
            throw new ModelLoadException(store.files().getFirst().getFileName()
                    + ": tensor 'lm_head.weight' is missing and config.json does not set tie_word_embeddings");
        }
        return new LlamaWeights(c, embedding, List.copyOf(layers), finalNorm, lmHead);
    }

    private static DenseLinear dense(WeightStore store, String name, int out, int in) {
        return new DenseLinear(store.require(name, FLOATS, out, in));
    }

    private static float[] norm(WeightStore store, String name, int n) {
        return TensorReads.vector(store.require(name, FLOATS, n));
    }

    @Override
    public void close() {
        store.close();
    }
}
