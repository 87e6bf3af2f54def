package io.paddock.testing;

import io.paddock.bench.SyntheticAdapter;
import io.paddock.format.DType;
import io.paddock.format.Tensor;
import io.paddock.format.TensorInfo;
import io.paddock.lora.LoraAdapter;
import io.paddock.lora.LoraModule;
import io.paddock.lora.LoraPair;
import io.paddock.model.DenseLinear;
import io.paddock.model.GptqLinear;
import io.paddock.model.LayerWeights;
import io.paddock.model.Linear;
import io.paddock.model.LlamaConfig;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.cpu.GptqReference;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * LoRA test material: seeded random adapters for any model shape, and the independent reference for applying one —
 * the base with every adapted weight replaced by {@code W + scale·B·A}, computed in double from the decoded base
 * weight (dense, or a GPTQ weight through the {@link GptqReference} formula) and stored as fp32. Running the merged
 * weights through the plain forward pass must give what the unmerged runtime gives with the adapter in a slot.
 */
public final class LoraTesting {
    private LoraTesting() {}

    /** An adapter of {@code rank} on {@code modules} of every layer (see {@link SyntheticAdapter#random}). */
    public static LoraAdapter randomAdapter(String name, LlamaConfig c, int rank, double alpha,
            Set<LoraModule> modules, double bScale, long seed) {
        return SyntheticAdapter.random(name, c, rank, alpha, modules, bScale, seed);
    }

    /** The base weights with {@code adapter} merged into every layer it adapts (fp32, computed in double). */
    public static LlamaWeights merged(LlamaWeights w, LoraAdapter adapter, Arena arena) {
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < w.layers().size(); l++) {
            LayerWeights lw = w.layers().get(l);
            Linear[] lin = new Linear[LoraModule.values().length];
            for (LoraModule m : LoraModule.values()) {
                LoraPair p = adapter.pair(l, m);
                lin[m.ordinal()] = p == null ? m.of(lw) : merge(m.of(lw), p, arena);
            }
            layers.add(new LayerWeights(lw.attentionNorm(), lin[0], lin[1], lin[2], lin[3], lw.mlpNorm(), lin[4],
                    lin[5], lin[6]));
        }
        return new LlamaWeights(w.config(), w.embedding(), layers, w.finalNorm(), w.lmHead());
    }

    /** w[o, i] of a base layer, decoded. */
    public static double weight(Linear lin, int o, int i) {
        return switch (lin) {
            case DenseLinear d -> d.weight().getFloat((long) o * d.inFeatures() + i);
            case GptqLinear g -> GptqReference.weight(g, i, o);
        };
    }

    private static Linear merge(Linear base, LoraPair p, Arena arena) {
        int in = base.inFeatures(), out = base.outFeatures();
        MemorySegment seg = arena.allocate((long) in * out * Float.BYTES, 64);
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double ba = 0;
                for (int j = 0; j < p.rank(); j++) ba += (double) p.b()[o * p.rank() + j] * p.a()[j * in + i];
                seg.setAtIndex(ValueLayout.JAVA_FLOAT, (long) o * in + i, (float) (weight(base, o, i) + p.scale() * ba));
            }
        }
        TensorInfo info = new TensorInfo("merged", DType.F32, new long[] {out, in}, Path.of("merged"), 0,
                seg.byteSize());
        return new DenseLinear(new Tensor(info, seg));
    }
}
