package io.paddock.bench;

import io.paddock.model.DemoModel;
import java.util.List;
import java.util.Locale;

/**
 * The architecture of a synthetic checkpoint: the original LLaMA sizes (as in Meta's params.json and the
 * Hugging Face conversions TheBloke quantized), plus a tiny one for tests.
 */
public record SyntheticShape(String name, int hidden, int intermediate, int layers, int heads, int kvHeads, int vocab,
        int maxPositions, double rmsNormEps) {

    public static final SyntheticShape LLAMA_7B = llama("llama-7b", 4096, 11008, 32, 32);
    public static final SyntheticShape LLAMA_13B = llama("llama-13b", 5120, 13824, 40, 40);
    public static final SyntheticShape LLAMA_33B = llama("llama-33b", 6656, 17920, 60, 52);
    public static final SyntheticShape LLAMA_65B = llama("llama-65b", 8192, 22016, 80, 64);
    /** Small enough to write in milliseconds; every size a multiple of 128 so every group size packs exactly. */
    public static final SyntheticShape TINY = new SyntheticShape("tiny", 256, 768, 2, 8, 4,
            Math.max(512, DemoModel.tokenizerSize()), 2048, 1e-5);

    public static final List<SyntheticShape> ALL = List.of(TINY, LLAMA_7B, LLAMA_13B, LLAMA_33B, LLAMA_65B);

    private static SyntheticShape llama(String name, int hidden, int ff, int layers, int heads) {
        return new SyntheticShape(name, hidden, ff, layers, heads, heads, 32000, 2048, 1e-6);
    }

    public static SyntheticShape byName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (SyntheticShape s : ALL) if (s.name.equals(n)) return s;
        throw new IllegalArgumentException("unknown shape '" + name + "' (known: "
                + String.join(", ", ALL.stream().map(SyntheticShape::name).toList()) + ")");
    }

    public int headDim() {
        return hidden / heads;
    }

    public int kvDim() {
        return kvHeads * headDim();
    }
}
