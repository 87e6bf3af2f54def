package io.paddock.bench;

import io.paddock.format.DType;
import io.paddock.format.SafetensorsWriter;
import io.paddock.model.CheckpointWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a LLaMA-shaped model directory with random weights in exactly the layout of TheBloke's AutoGPTQ uploads
 * (config.json with quantization_config, quantize_config.json, one model.safetensors with AutoGPTQ's tensor names,
 * dtypes and metadata), or the dense F16 checkpoint of the same shape. Lets benchmarks and loaders run on 7B–65B
 * shapes without downloading a model. The weights are streamed to disk: a 7B 4-bit file (~3.9 GB) is never held
 * on the heap.
 */
public final class SyntheticCheckpoint {
    public static final String WEIGHTS = CheckpointWriter.WEIGHTS;

    private static final String[] ATTENTION = {"q_proj", "k_proj", "v_proj", "o_proj"};
    private static final String[] MLP = {"gate_proj", "up_proj", "down_proj"};

    private SyntheticCheckpoint() {}

    /** Writes the whole model directory into {@code outDir} (created if needed) and returns it. */
    public static Path write(SyntheticSpec spec, Path outDir) {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        if (spec.isGptq()) {
            // AutoGPTQ's save_quantized records the settings in the file too
            w.metadata("gptq_bits", Integer.toString(spec.bits()))
                    .metadata("gptq_group_size", Integer.toString(spec.groupSize()))
                    .metadata("gptq_desc_act", spec.actOrder() ? "True" : "False")
                    .metadata("gptq_damp_percent", "0.01");
        }
        for (SyntheticTensor t : tensors(spec)) w.add(t.name(), t.dtype(), t.shape(), t.bytes());
        Map<String, Object> generation = new LinkedHashMap<>();
        generation.put("bos_token_id", 1);
        generation.put("eos_token_id", 2);
        generation.put("pad_token_id", 0);
        try {
            CheckpointWriter.write(outDir, config(spec), generation, spec.isGptq() ? quantizeConfig(spec) : null, w);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the synthetic model into " + outDir, e);
        }
        return outDir;
    }

    /**
     * The tensors of {@code spec} in file order: as the safetensors library lays them out, by dtype size (largest
     * first), then by name. Nothing is generated until a tensor's callback runs.
     */
    public static List<SyntheticTensor> tensors(SyntheticSpec spec) {
        SyntheticShape s = spec.shape();
        SyntheticValues values = new SyntheticValues(spec.seed());
        int h = s.hidden(), ff = s.intermediate(), kv = s.kvDim();
        List<SyntheticTensor> out = new ArrayList<>();
        out.add(new SyntheticTensor("model.embed_tokens.weight", DType.F16, new long[] {s.vocab(), h},
                values.gaussianF16("model.embed_tokens.weight", (long) s.vocab() * h, 0.02)));
        out.add(new SyntheticTensor("lm_head.weight", DType.F16, new long[] {s.vocab(), h},
                values.gaussianF16("lm_head.weight", (long) s.vocab() * h, 0.02)));
        out.add(ones("model.norm.weight", h));
        for (int i = 0; i < spec.layers(); i++) {
            String p = "model.layers." + i + ".";
            out.add(ones(p + "input_layernorm.weight", h));
            out.add(ones(p + "post_attention_layernorm.weight", h));
            int[][] attention = {{h, h}, {kv, h}, {kv, h}, {h, h}}; // (out, in) of q, k, v, o
            for (int k = 0; k < ATTENTION.length; k++) {
                linear(out, values, spec, p + "self_attn." + ATTENTION[k], attention[k][0], attention[k][1]);
            }
            int[][] mlp = {{ff, h}, {ff, h}, {h, ff}}; // gate, up, down
            for (int k = 0; k < MLP.length; k++) linear(out, values, spec, p + "mlp." + MLP[k], mlp[k][0], mlp[k][1]);
        }
        out.sort(Comparator.comparingInt((SyntheticTensor t) -> -t.dtype().byteSize()).thenComparing(SyntheticTensor::name));
        return List.copyOf(out);
    }

    private static SyntheticTensor ones(String name, int n) {
        return new SyntheticTensor(name, DType.F16, new long[] {n}, SyntheticValues.onesF16(n));
    }

    private static void linear(List<SyntheticTensor> out, SyntheticValues values, SyntheticSpec spec, String name,
            int outFeatures, int in) {
        if (!spec.isGptq()) {
            out.add(new SyntheticTensor(name + ".weight", DType.F16, new long[] {outFeatures, in},
                    values.gaussianF16(name + ".weight", (long) outFeatures * in, 0.02)));
            return;
        }
        int bits = spec.bits(), groups = spec.groupSize() == -1 ? 1 : in / spec.groupSize();
        long qRows = (long) in * bits / 32, zCols = (long) outFeatures * bits / 32;
        out.add(new SyntheticTensor(name + ".qweight", DType.I32, new long[] {qRows, outFeatures},
                values.randomWords(name + ".qweight", qRows * outFeatures * 4)));
        out.add(new SyntheticTensor(name + ".qzeros", DType.I32, new long[] {groups, zCols},
                SyntheticValues.zeros(groups, outFeatures, bits)));
        out.add(new SyntheticTensor(name + ".scales", DType.F16, new long[] {groups, outFeatures},
                values.scales(name + ".scales", (long) groups * outFeatures, bits)));
        out.add(new SyntheticTensor(name + ".g_idx", DType.I32, new long[] {in},
                values.groupIndexBytes(inputKey(name) + ".g_idx", in, spec.groupSize(), spec.actOrder())));
    }

    /**
     * The key an act-order g_idx is drawn from: the layer's input, as in a GPTQ checkpoint, where the order comes
     * from the Hessian of the layer input, so q/k/v (and gate/up) share one g_idx.
     */
    static String inputKey(String name) {
        return name.replaceFirst("\\.(q_proj|k_proj|v_proj)$", ".qkv_input")
                .replaceFirst("\\.(gate_proj|up_proj)$", ".gate_up_input");
    }

    /** config.json as Transformers writes it for these checkpoints. */
    private static Map<String, Object> config(SyntheticSpec spec) {
        SyntheticShape s = spec.shape();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("_name_or_path", "paddock-synthetic-" + s.name());
        config.put("architectures", List.of("LlamaForCausalLM"));
        config.put("bos_token_id", 1);
        config.put("eos_token_id", 2);
        config.put("hidden_act", "silu");
        config.put("hidden_size", s.hidden());
        config.put("initializer_range", 0.02);
        config.put("intermediate_size", s.intermediate());
        config.put("max_position_embeddings", s.maxPositions());
        config.put("model_type", "llama");
        config.put("num_attention_heads", s.heads());
        config.put("num_hidden_layers", spec.layers());
        config.put("num_key_value_heads", s.kvHeads());
        config.put("pad_token_id", 0);
        config.put("pretraining_tp", 1);
        config.put("rms_norm_eps", s.rmsNormEps());
        config.put("rope_scaling", null);
        config.put("rope_theta", 10000.0);
        config.put("tie_word_embeddings", false);
        config.put("torch_dtype", "float16");
        config.put("use_cache", true);
        config.put("vocab_size", s.vocab());
        config.put("_paddock_note", "synthetic checkpoint with RANDOM weights (" + spec.describe()
                + "): for benchmarks and loader tests; its output is meaningless");
        if (spec.isGptq()) {
            Map<String, Object> q = quantizeConfig(spec);
            q.put("quant_method", "gptq");
            config.put("quantization_config", q);
        }
        return config;
    }

    /** AutoGPTQ's BaseQuantizeConfig as save_quantized writes it, keys sorted as it sorts them. */
    private static Map<String, Object> quantizeConfig(SyntheticSpec spec) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("bits", spec.bits());
        q.put("damp_percent", 0.01);
        q.put("desc_act", spec.actOrder());
        q.put("group_size", spec.groupSize());
        q.put("model_file_base_name", "model");
        q.put("model_name_or_path", null);
        q.put("static_groups", false);
        q.put("sym", true);
        q.put("true_sequential", true);
        return q;
    }
}
