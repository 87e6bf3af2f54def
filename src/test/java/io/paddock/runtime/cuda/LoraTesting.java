package io.paddock.runtime.cuda;

import io.paddock.format.DType;
import io.paddock.format.Tensor;
import io.paddock.format.TensorInfo;
import io.paddock.lora.AdapterConfig;
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
import java.util.Random;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * LoRA fixtures for the CUDA tests: seeded random adapters for a model's shapes, and the merged weights
 * {@code W + scale · B·A} (in float64, rounded once) that the CPU runtime runs as the independent reference.
 */
final class LoraTesting {
    private LoraTesting() {}

    /** {in, out} of each module, in LoraModule order. */
    static int[] shape(LlamaConfig c, LoraModule m) {
        return GpuFootprint.loraShapes(c)[m.ordinal()];
    }

    /**
     * A random adapter of rank {@code r} and alpha {@code alpha} on {@code modules} of every layer that
     * {@code layers} accepts (other layers are left alone). A ~ U(-1, 1)/√in, B ~ U(-1, 1)·{@code bRange}/√r, so
     * that the adapted model departs clearly from the base one without blowing up.
     */
    static LoraAdapter random(String name, LlamaConfig c, long seed, int r, double alpha, Set<LoraModule> modules,
            IntPredicate layers, float bRange) {
        Random rnd = new Random(seed);
        AdapterConfig cfg = new AdapterConfig(r, alpha, modules, false, null);
        LoraPair[][] pairs = new LoraPair[c.numLayers()][LoraModule.values().length];
        for (int l = 0; l < c.numLayers(); l++) {
            if (!layers.test(l)) continue;
            for (LoraModule m : modules) {
                int in = shape(c, m)[0], out = shape(c, m)[1];
                float[] a = new float[r * in], b = new float[out * r];
                for (int i = 0; i < a.length; i++) a[i] = (float) ((rnd.nextDouble() * 2 - 1) / Math.sqrt(in));
                for (int i = 0; i < b.length; i++) b[i] = (float) ((rnd.nextDouble() * 2 - 1) * bRange / Math.sqrt(r));
                pairs[l][m.ordinal()] = new LoraPair(r, in, out, a, b, cfg.scale(r, alpha));
            }
        }
        return new LoraAdapter(name, null, cfg, pairs);
    }

    /** An adapter holding exactly {@code pair} at {@code layer}/{@code module}. */
    static LoraAdapter single(String name, LlamaConfig c, int layer, LoraModule module, LoraPair pair) {
        LoraPair[][] pairs = new LoraPair[c.numLayers()][LoraModule.values().length];
        pairs[layer][module.ordinal()] = pair;
        return new LoraAdapter(name, null, new AdapterConfig(pair.rank(), pair.rank(), Set.of(module), false, null), pairs);
    }

    /**
     * The base weights with every adapted linear layer replaced by the dense fp32 {@code W + scale · B·A}: W as the
     * layer stores it (dense widened, GPTQ dequantized exactly), the product in float64, one rounding. Layers the
     * adapter leaves alone stay as they are (GPTQ stays GPTQ). Memory from {@code arena}.
     */
    static LlamaWeights merged(LlamaWeights w, LoraAdapter adapter, Arena arena) {
        List<LayerWeights> layers = new ArrayList<>();
        for (int l = 0; l < w.layers().size(); l++) {
            LayerWeights lw = w.layers().get(l);
            Linear[] lin = new Linear[7];
            for (LoraModule m : LoraModule.values()) lin[m.ordinal()] = merge(m.of(lw), adapter.pair(l, m), arena, l, m);
            layers.add(new LayerWeights(lw.attentionNorm(), lin[0], lin[1], lin[2], lin[3], lw.mlpNorm(), lin[4],
                    lin[5], lin[6]));
        }
        return new LlamaWeights(w.config(), w.embedding(), List.copyOf(layers), w.finalNorm(), w.lmHead());
    }

    private static Linear merge(Linear base, LoraPair p, Arena arena, int layer, LoraModule m) {
        if (p == null) return base;
        int in = base.inFeatures(), out = base.outFeatures();
        double[] wd = new double[out * in];   // (out, in)
        switch (base) {
            case DenseLinear d -> {
                for (int i = 0; i < wd.length; i++) wd[i] = d.weight().getFloat(i);
            }
            case GptqLinear g -> {
                if (g.bias() != null) throw new IllegalArgumentException("merging a GPTQ layer with a bias is not needed here");
                float[] t = GptqReference.dequantize(g);   // (in, out)
                for (int i = 0; i < in; i++) for (int o = 0; o < out; o++) wd[o * in + i] = t[i * out + o];
            }
        }
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int j = 0; j < p.rank(); j++) s += (double) p.b()[o * p.rank() + j] * p.a()[j * in + i];
                wd[o * in + i] += p.scale() * s;
            }
        }
        MemorySegment seg = arena.allocate((long) wd.length * Float.BYTES, 64);
        for (int i = 0; i < wd.length; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) wd[i]);
        String name = "model.layers." + layer + "." + m.parent() + "." + m.peftName() + ".weight";
        TensorInfo info = new TensorInfo(name, DType.F32, new long[] {out, in}, Path.of("merged-" + name), 0, seg.byteSize());
        return new DenseLinear(new Tensor(info, seg));
    }
}
