package io.paddock.runtime;

import java.util.Locale;

/**
 * Element type of the KV cache ({@code paddock.engine.kv-cache-dtype}). {@link #AUTO} lets the runtime choose: f16
 * on the CPU and on CUDA (half the memory of f32 per cached token, so twice the blocks for the same budget); the CUDA
 * runtime takes f16 and f32 and refuses bf16.
 */
public enum KvCacheDtype {
    AUTO(0), F16(2), BF16(2), F32(4);

    private final int bytes;

    KvCacheDtype(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element; AUTO has none until a runtime resolves it. */
    public int bytes() {
        if (this == AUTO) throw new IllegalStateException("AUTO is resolved by the runtime before it has a size");
        return bytes;
    }

    /** The setting's spelling: auto, f16, bf16, f32. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses auto|f16|bf16|f32 (any case; fp16, float16, float32, fp32 accepted too). */
    public static KvCacheDtype parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "f16", "fp16", "float16", "half" -> F16;
            case "bf16", "bfloat16" -> BF16;
            case "f32", "fp32", "float32", "float" -> F32;
            default -> throw new IllegalArgumentException("kv-cache-dtype must be auto, f16, bf16 or f32, got '" + s + "'");
        };
    }
}
