package io.paddock.lora;

import io.paddock.format.DType;
import io.paddock.format.ModelLoadException;
import io.paddock.format.SafetensorsFile;
import io.paddock.format.Tensor;
import io.paddock.format.TensorInfo;
import io.paddock.model.LlamaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a Hugging Face PEFT LoRA adapter directory ({@code adapter_config.json} with {@code adapter_model.safetensors}
 * or, in older PEFT releases, {@code adapter_model.bin}) for one base model, and checks every tensor against the
 * base's shapes.
 */
public final class PeftAdapters {
    public static final String SAFETENSORS = "adapter_model.safetensors";
    public static final String BIN = "adapter_model.bin";

    /** {@code base_model.model.model.layers.N.<parent>.<module>.lora_A[.<adapter name>].weight}. */
    private static final Pattern KEY = Pattern.compile(
            "base_model\\.model\\.model\\.layers\\.(\\d+)\\.([a-z_]+)\\.([a-z_]+)\\.lora_([AB])(?:\\.([^.]+))?\\.weight");

    private PeftAdapters() {}

    /**
     * Reads the adapter in {@code dir} under {@code name} for a base model of configuration {@code base}.
     *
     * @throws AdapterLoadException naming the file and the tensor or field, for a missing file, a setting that is
     *                              not supported, or a tensor that is missing, unexpected or of the wrong shape
     */
    public static LoraAdapter load(Path dir, String name, LlamaConfig base) {
        if (!Files.isDirectory(dir)) throw new AdapterLoadException(dir + ": adapter directory not found");
        AdapterConfig config = AdapterConfig.read(dir.resolve(AdapterConfig.FILE_NAME));
        Path file = dir.resolve(SAFETENSORS);
        Map<String, HeapTensor> tensors;
        if (Files.isRegularFile(file)) {
            tensors = readSafetensors(file);
        } else if (Files.isRegularFile(dir.resolve(BIN))) {
            file = dir.resolve(BIN);
            tensors = TorchCheckpoint.read(file);
        } else {
            throw new AdapterLoadException(dir + ": no adapter weights (neither " + SAFETENSORS + " nor " + BIN + ")");
        }
        return build(name, dir, config, tensors, file, base);
    }

    /** The adapter from tensors already read, keyed as PEFT saves them; {@code file} names them in errors. */
    static LoraAdapter build(String name, Path dir, AdapterConfig config, Map<String, HeapTensor> tensors, Path file,
            LlamaConfig base) {
        int layers = base.numLayers();
        HeapTensor[][][] found = new HeapTensor[layers][LoraModule.values().length][2];
        String[][][] keys = new String[layers][LoraModule.values().length][2];
        for (Map.Entry<String, HeapTensor> e : tensors.entrySet()) {
            String key = e.getKey();
            Matcher m = KEY.matcher(key);
            if (!m.matches()) {
                throw new AdapterLoadException(file + ": unexpected tensor '" + key + "' (a LoRA adapter of a LLaMA model "
                        + "holds only base_model.model.model.layers.N.{self_attn|mlp}.<module>.lora_{A|B}.weight)");
            }
            long layer = Long.parseLong(m.group(1).length() > 9 ? "999999999" : m.group(1));
            LoraModule module = LoraModule.ofPeftName(m.group(3)).orElse(null);
            if (module == null || !module.parent().equals(m.group(2))) {
                throw new AdapterLoadException(file + ": unexpected tensor '" + key + "': " + m.group(2) + "." + m.group(3)
                        + " is not a LLaMA decoder linear");
            }
            if (layer >= layers) {
                throw new AdapterLoadException(file + ": unexpected tensor '" + key + "': layer " + layer
                        + " is beyond the base model's " + layers + " layers");
            }
            int l = (int) layer;
            if (!config.targets(l, module)) {
                throw new AdapterLoadException(file + ": unexpected tensor '" + key + "': adapter_config.json does not target "
                        + AdapterConfig.moduleKey(l, module) + " (target_modules / layers_to_transform)");
            }
            int ab = m.group(4).equals("A") ? 0 : 1;
            if (found[l][module.ordinal()][ab] != null) {
                throw new AdapterLoadException(file + ": tensors '" + keys[l][module.ordinal()][ab] + "' and '" + key
                        + "' are the same weight; which one to use is ambiguous");
            }
            found[l][module.ordinal()][ab] = e.getValue();
            keys[l][module.ordinal()][ab] = key;
        }

        LoraPair[][] pairs = new LoraPair[layers][LoraModule.values().length];
        for (int l = 0; l < layers; l++) {
            for (LoraModule module : LoraModule.values()) {
                if (!config.targets(l, module)) continue;
                int rank = config.rank(l, module);
                int in = inFeatures(base, module), out = outFeatures(base, module);
                String prefix = "base_model.model." + AdapterConfig.moduleKey(l, module) + ".lora_";
                HeapTensor a = check(file, found[l][module.ordinal()][0], keys[l][module.ordinal()][0], prefix + "A.weight",
                        new long[] {rank, in}, "rank " + rank + ", in_features " + in);
                HeapTensor b = check(file, found[l][module.ordinal()][1], keys[l][module.ordinal()][1], prefix + "B.weight",
                        new long[] {out, rank}, "out_features " + out + ", rank " + rank);
                pairs[l][module.ordinal()] = new LoraPair(rank, in, out, a.values(), b.values(),
                        config.scale(rank, config.alpha(l, module)));
            }
        }
        try {
            return new LoraAdapter(name, dir, config, pairs);
        } catch (IllegalArgumentException e) {
            throw new AdapterLoadException(file + ": " + e.getMessage(), e);
        }
    }

    private static HeapTensor check(Path file, HeapTensor t, String key, String expectedKey, long[] shape, String why) {
        if (t == null) {
            throw new AdapterLoadException(file + ": tensor '" + expectedKey + "' is missing (adapter_config.json targets "
                    + "this module)");
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new AdapterLoadException(file + ": tensor '" + key + "' has shape " + t.shapeString() + ", expected "
                    + Arrays.toString(shape) + " (" + why + " of the base model)");
        }
        return t;
    }

    /** Input features of {@code module} in a base model of configuration {@code c}. */
    public static int inFeatures(LlamaConfig c, LoraModule module) {
        return switch (module) {
            case Q, K, V, GATE, UP -> c.hiddenSize();
            case O -> c.qDim();
            case DOWN -> c.intermediateSize();
        };
    }

    /** Output features of {@code module} in a base model of configuration {@code c}. */
    public static int outFeatures(LlamaConfig c, LoraModule module) {
        return switch (module) {
            case Q -> c.qDim();
            case K, V -> c.kvDim();
            case O, DOWN -> c.hiddenSize();
            case GATE, UP -> c.intermediateSize();
        };
    }

    private static Map<String, HeapTensor> readSafetensors(Path file) {
        Map<String, HeapTensor> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (TensorInfo info : f.tensors().values()) {
                if (info.dtype() != DType.F32 && info.dtype() != DType.F16 && info.dtype() != DType.BF16) {
                    throw new AdapterLoadException(file + ": tensor '" + info.name() + "' has dtype " + info.dtype()
                            + "; adapter weights must be F32, F16 or BF16");
                }
                if (info.elementCount() > Integer.MAX_VALUE - 8) {
                    throw new AdapterLoadException(file + ": tensor '" + info.name() + "' is too large for an adapter");
                }
                Tensor t = f.tensor(info.name());
                out.put(info.name(), new HeapTensor(info.shape(), t.toFloatArray()));
            }
        } catch (ModelLoadException e) {
            throw new AdapterLoadException(file + ": " + e.getMessage(), e);
        }
        return out;
    }
}
