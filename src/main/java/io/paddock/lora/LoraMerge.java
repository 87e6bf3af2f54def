package io.paddock.lora;

import io.paddock.format.DType;
import io.paddock.format.HalfFloats;
import io.paddock.format.ModelLoadException;
import io.paddock.format.SafetensorsWriter;
import io.paddock.format.Tensor;
import io.paddock.format.TensorInfo;
import io.paddock.format.WeightStore;
import io.paddock.model.CheckpointWriter;
import io.paddock.model.DenseLinear;
import io.paddock.model.GptqLinear;
import io.paddock.model.LayerWeights;
import io.paddock.model.Linear;
import io.paddock.model.LlamaCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Merges a LoRA adapter into its base model and writes a complete dense model directory, as PEFT's
 * {@code merge_and_unload} followed by {@code save_pretrained}: every adapted linear becomes {@code W + scale·B·A},
 * computed in float64 from the base weight (dequantized first for a GPTQ base) and rounded once to the output type;
 * every other tensor is copied, converted to the output type where it is a float. {@code config.json} loses its
 * {@code quantization_config}; the tokenizer files and {@code generation_config.json} are copied.
 */
public final class LoraMerge {
    /** Files copied from the base directory where present. */
    static final List<String> COPIED = List.of("generation_config.json", "tokenizer.model", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.bin");
    private static final List<String> GPTQ_SUFFIXES = List.of(".qweight", ".qzeros", ".scales", ".g_idx", ".bias");
    private static final int CHUNK = 1 << 16;

    /** What a merge wrote. */
    public record Result(Path directory, DType dtype, int mergedLinears, int tensors, long bytes) {}

    private LoraMerge() {}

    /** The output type a merge uses without {@code --dtype}: the base's {@code torch_dtype}, or F16. */
    public static DType defaultDtype(LlamaCheckpoint base) {
        return switch (base.config().torchDtype().toLowerCase(Locale.ROOT)) {
            case "float32" -> DType.F32;
            case "bfloat16" -> DType.BF16;
            default -> DType.F16;
        };
    }

    /**
     * Merges the adapter in {@code adapterDir} into the model in {@code baseDir} and writes the result to
     * {@code outDir}, which must not exist or be empty.
     *
     * @param dtype F16, BF16 or F32; null for {@link #defaultDtype}
     */
    public static Result merge(Path baseDir, Path adapterDir, Path outDir, DType dtype) {
        if (dtype != null && dtype != DType.F16 && dtype != DType.BF16 && dtype != DType.F32) {
            throw new IllegalArgumentException("a merged model is written as F16, BF16 or F32, not " + dtype);
        }
        if (!Files.isDirectory(adapterDir)) throw new AdapterLoadException(adapterDir + ": adapter directory not found");
        checkOut(outDir);
        try (LlamaCheckpoint base = LlamaCheckpoint.open(baseDir)) {
            LoraAdapter adapter = PeftAdapters.load(adapterDir, adapterDir.getFileName().toString(), base.config());
            return write(base, adapter, outDir, dtype == null ? defaultDtype(base) : dtype);
        }
    }

    private static void checkOut(Path outDir) {
        if (Files.exists(outDir)) {
            if (!Files.isDirectory(outDir)) throw new IllegalArgumentException(outDir + ": exists and is not a directory");
            try (Stream<Path> s = Files.list(outDir)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException(outDir + ": output directory exists and is not empty");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(outDir + ": " + e.getMessage(), e);
            }
        }
    }

    /** Writes {@code base} with {@code adapter} merged into {@code outDir} as {@code dtype}. */
    public static Result write(LlamaCheckpoint base, LoraAdapter adapter, Path outDir, DType dtype) {
        if (adapter.numLayers() != base.config().numLayers()) {
            throw new IllegalArgumentException("adapter '" + adapter.name() + "' has " + adapter.numLayers()
                    + " layers, the base model " + base.config().numLayers());
        }
        WeightStore store = base.store();
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
        TreeMap<String, Declared> declared = new TreeMap<>();
        Set<String> consumed = new HashSet<>();
        int merged = 0;
        for (int l = 0; l < base.config().numLayers(); l++) {
            LayerWeights layer = base.weights().layers().get(l);
            for (LoraModule m : LoraModule.values()) {
                String prefix = AdapterConfig.moduleKey(l, m);
                Linear lin = m.of(layer);
                LoraPair pair = adapter.pair(l, m);
                double scale = pair == null ? 0 : adapter.config().exactScale(l, m);
                if (lin instanceof GptqLinear g) {
                    for (String s : GPTQ_SUFFIXES) consumed.add(prefix + s);
                    checkNoBias(g);
                } else {
                    consumed.add(prefix + ".weight");
                }
                if (pair != null) merged++;
                declared.put(prefix + ".weight", new Declared(new long[] {lin.outFeatures(), lin.inFeatures()},
                        out -> encode(mergedWeight(lin, pair, scale), dtype, out)));
            }
        }
        for (String name : store.names()) {
            if (consumed.contains(name)) continue;
            TensorInfo info = store.info(name);
            Tensor t = store.tensor(name);
            if (!info.dtype().isFloatingPoint() || info.dtype() == dtype) {
                declared.put(name, new Declared(info.dtype(), info.shape(), t));
            } else {
                declared.put(name, new Declared(info.shape(), out -> encodeFloats(t, dtype, out)));
            }
        }
        for (var e : declared.entrySet()) {
            Declared d = e.getValue();
            if (d.copy != null) writer.add(e.getKey(), d.dtype, d.shape, d.copy.data());
            else writer.add(e.getKey(), dtype, d.shape, d.source);
        }
        try {
            Files.createDirectories(outDir);
            writeConfig(base.directory(), outDir, dtype);
            for (String f : COPIED) {
                Path src = base.directory().resolve(f);
                if (Files.isRegularFile(src)) Files.copy(src, outDir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + outDir + ": " + e.getMessage(), e);
        }
        long bytes = writer.write(outDir.resolve(CheckpointWriter.WEIGHTS));
        return new Result(outDir, dtype, merged, declared.size(), bytes);
    }

    /** A tensor to write: computed ({@code source}, in the output type) or copied as stored ({@code copy}). */
    private record Declared(DType dtype, long[] shape, Tensor copy, SafetensorsWriter.TensorBytes source) {
        Declared(long[] shape, SafetensorsWriter.TensorBytes source) {
            this(null, shape, null, source);
        }

        Declared(DType dtype, long[] shape, Tensor copy) {
            this(dtype, shape, copy, null);
        }
    }

    private static void checkNoBias(GptqLinear g) {
        if (g.bias() == null) return;
        for (int o = 0; o < g.outFeatures(); o++) {
            if (g.bias(o) != 0f) {
                throw new ModelLoadException("tensor '" + g.name() + ".bias' is not zero; a LLaMA linear has no bias, so "
                        + "the merged model could not keep it");
            }
        }
    }

    private static void writeConfig(Path baseDir, Path outDir, DType dtype) throws IOException {
        JsonMapper json = JsonMapper.builder().build();
        ObjectNode config = (ObjectNode) json.readTree(baseDir.resolve("config.json").toFile());
        config.remove("quantization_config");
        config.put("torch_dtype", switch (dtype) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            default -> "float16";
        });
        json.writerWithDefaultPrettyPrinter().writeValue(outDir.resolve("config.json").toFile(), config);
    }

    /**
     * {@code W + scale·B·A} of one linear in float64, (out, in) row-major; W alone where {@code pair} is null.
     * A GPTQ W is dequantized first.
     */
    public static double[] mergedWeight(Linear lin, LoraPair pair, double scale) {
        int out = lin.outFeatures(), in = lin.inFeatures();
        double[] w = new double[Math.multiplyExact(out, in)];
        switch (lin) {
            case DenseLinear d -> {
                float[] row = new float[in];
                for (int o = 0; o < out; o++) {
                    d.weight().copyRow(o, row, 0);
                    for (int i = 0; i < in; i++) w[o * in + i] = row[i];
                }
            }
            case GptqLinear g -> {
                float[] f = GptqDequantizer.weight(g);
                for (int k = 0; k < f.length; k++) w[k] = f[k];
            }
        }
        if (pair == null) return w;
        if (pair.in() != in || pair.out() != out) {
            throw new IllegalArgumentException("LoRA pair " + pair.out() + "x" + pair.in() + " does not fit a " + out + "x"
                    + in + " layer");
        }
        int r = pair.rank();
        float[] a = pair.a(), b = pair.b();
        double[] ba = new double[in];
        for (int o = 0; o < out; o++) {
            java.util.Arrays.fill(ba, 0);
            for (int k = 0; k < r; k++) {
                double bk = b[o * r + k];
                if (bk == 0) continue;
                for (int i = 0; i < in; i++) ba[i] += bk * a[k * in + i];
            }
            for (int i = 0; i < in; i++) w[o * in + i] += scale * ba[i];
        }
        return w;
    }

    /**
     * {@code x} rounded to the nearest float: float64 → float32 is one rounding; for F16 and BF16 the float32 step
     * rounds to odd, so that the second rounding gives the value nearest to {@code x} as if rounded once.
     */
    static float roundToOddFloat(double x) {
        float f = (float) x;
        if (f != x && !Float.isInfinite(f) && (Float.floatToRawIntBits(f) & 1) == 0) {
            f = x > f ? Math.nextUp(f) : Math.nextDown(f);
        }
        return f;
    }

    private static void encode(double[] values, DType dtype, WritableByteChannel out) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            if (buf.remaining() < 4) flush(out, buf);
            switch (dtype) {
                case F32 -> buf.putFloat((float) v);
                case F16 -> buf.putShort(HalfFloats.floatToF16(roundToOddFloat(v)));
                default -> buf.putShort(HalfFloats.floatToBf16(roundToOddFloat(v)));
            }
        }
        flush(out, buf);
    }

    private static void encodeFloats(Tensor t, DType dtype, WritableByteChannel out) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        for (long k = 0; k < t.elementCount(); k++) {
            if (buf.remaining() < 4) flush(out, buf);
            float v = t.getFloat(k);
            switch (dtype) {
                case F32 -> buf.putFloat(v);
                case F16 -> buf.putShort(HalfFloats.floatToF16(v));
                default -> buf.putShort(HalfFloats.floatToBf16(v));
            }
        }
        flush(out, buf);
    }

    private static void flush(WritableByteChannel out, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) out.write(buf);
        buf.clear();
    }
}
