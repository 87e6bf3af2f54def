package io.paddock.bench;

import io.paddock.lora.AdapterConfig;
import io.paddock.lora.LoraAdapter;
import io.paddock.lora.LoraModule;
import io.paddock.lora.LoraPair;
import io.paddock.lora.PeftAdapters;
import io.paddock.model.LlamaConfig;
import java.util.Random;
import java.util.Set;

/**
 * Seeded random LoRA adapters for any model shape, for benchmarks (and tests): {@code lora_A} uniform in
 * ±1/√in_features (PEFT's initialisation range), {@code lora_B} normal with standard deviation {@code bScale} (PEFT
 * would start it at zero, making the adapter a no-op).
 */
public final class SyntheticAdapter {
    private SyntheticAdapter() {}

    public static LoraAdapter random(String name, LlamaConfig c, int rank, double alpha, Set<LoraModule> modules,
            double bScale, long seed) {
        Random rnd = new Random(seed);
        LoraPair[][] pairs = new LoraPair[c.numLayers()][LoraModule.values().length];
        AdapterConfig config = new AdapterConfig(rank, alpha, modules, false, null);
        for (int l = 0; l < c.numLayers(); l++) {
            for (LoraModule m : LoraModule.values()) {
                if (!modules.contains(m)) continue;
                int in = PeftAdapters.inFeatures(c, m), out = PeftAdapters.outFeatures(c, m);
                float[] a = new float[rank * in], b = new float[out * rank];
                double bound = 1 / Math.sqrt(in);
                for (int i = 0; i < a.length; i++) a[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
                for (int i = 0; i < b.length; i++) b[i] = (float) (rnd.nextGaussian() * bScale);
                pairs[l][m.ordinal()] = new LoraPair(rank, in, out, a, b, config.scale(rank, alpha));
            }
        }
        return new LoraAdapter(name, null, config, pairs);
    }
}
