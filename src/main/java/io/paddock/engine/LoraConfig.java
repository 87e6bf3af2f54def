package io.paddock.engine;

/**
 * How an engine serves LoRA adapters (vLLM's {@code --max-loras}, {@code --max-lora-rank}, {@code --max-cpu-loras}).
 *
 * @param maxLoras    adapter slots in the runtime: most distinct adapters in one step (0: the base model only)
 * @param maxLoraRank highest adapter rank the slots hold
 * @param maxCpuLoras adapters whose weights the host keeps read (LRU); others are read again from their directory
 *                    when a request needs them. At least {@code maxLoras}.
 */
public record LoraConfig(int maxLoras, int maxLoraRank, int maxCpuLoras) {
    /** No adapters. */
    public static final LoraConfig NONE = new LoraConfig(0, 0, 0);

    public static final int DEFAULT_MAX_LORAS = 4;
    public static final int DEFAULT_MAX_LORA_RANK = 64;
    public static final int DEFAULT_MAX_CPU_LORAS = 16;

    public LoraConfig {
        if (maxLoras < 0) throw new IllegalArgumentException("maxLoras must be >= 0, got " + maxLoras);
        if (maxLoras > 0 && maxLoraRank < 1) {
            throw new IllegalArgumentException("maxLoraRank must be >= 1, got " + maxLoraRank);
        }
        if (maxCpuLoras < maxLoras) {
            throw new IllegalArgumentException("maxCpuLoras (" + maxCpuLoras + ") must be >= maxLoras (" + maxLoras + ")");
        }
    }

    public static LoraConfig defaults() {
        return new LoraConfig(DEFAULT_MAX_LORAS, DEFAULT_MAX_LORA_RANK, DEFAULT_MAX_CPU_LORAS);
    }

    public boolean enabled() {
        return maxLoras > 0;
    }
}
