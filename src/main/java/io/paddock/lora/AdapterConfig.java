package io.paddock.lora;

import java.util.Set;

/**
 * The settings of a PEFT LoRA adapter ({@code adapter_config.json}) that decide how it is applied. Settings the
 * runtime cannot honour are refused when the file is read.
 */
public record AdapterConfig(int r, double loraAlpha, Set<LoraModule> targetModules, boolean useRslora,
        String baseModelNameOrPath) {
    public AdapterConfig {
        if (r < 1) throw new IllegalArgumentException("r must be >= 1, got " + r);
        targetModules = Set.copyOf(targetModules);
    }

    /** {@code lora_alpha / r}, or {@code lora_alpha / √r} with rsLoRA, for a module of rank {@code rank}. */
    public float scale(int rank, double alpha) {
        return (float) (useRslora ? alpha / Math.sqrt(rank) : alpha / rank);
    }
}
