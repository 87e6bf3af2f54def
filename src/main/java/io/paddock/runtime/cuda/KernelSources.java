package io.paddock.runtime.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA C sources the runtime loads, by file name (class-path resources under {@code /cuda}). Each is
 * self-contained and becomes its own module, so the static helpers the files share by name never clash.
 */
public final class KernelSources {
    public static final String GPTQ = "gptq_matmul.cu";
    public static final String LAYER_OPS = "layer_ops.cu";
    public static final String ATTENTION = "paged_attention.cu";
    public static final String DENSE = "dense_matmul.cu";
    public static final String LORA = "lora.cu";
    public static final String GEMV = "gptq_gemv.cu";
    public static final String GPTQ_MMA = "gptq_mma.cu";
    public static final List<String> NAMES = List.of(GPTQ, LAYER_OPS, ATTENTION, DENSE, LORA, GEMV, GPTQ_MMA);

    private KernelSources() {}

    /** Every source by file name, in {@link #NAMES} order. */
    public static Map<String, String> all() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String name : NAMES) m.put(name, resource(name));
        return m;
    }

    public static String resource(String name) {
        try (InputStream in = KernelSources.class.getResourceAsStream("/cuda/" + name)) {
            if (in == null) throw new IllegalStateException("kernel source /cuda/" + name + " is not on the class path");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes every source to the folder given as the only argument (scripts/gpu-check compiles them with nvcc). */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        for (Map.Entry<String, String> e : all().entrySet()) Files.writeString(dir.resolve(e.getKey()), e.getValue());
    }
}
