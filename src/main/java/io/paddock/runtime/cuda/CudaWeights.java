package io.paddock.runtime.cuda;

import io.paddock.format.DType;
import io.paddock.format.Tensor;
import io.paddock.model.DenseLinear;
import io.paddock.model.GptqLinear;
import io.paddock.model.LayerWeights;
import io.paddock.model.Linear;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.RopeTable;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** Every weight on the device, uploaded once; the memory belongs to the given {@link DeviceMemory}. */
final class CudaWeights {

    /** A linear layer on the device. */
    sealed interface DeviceLinear permits Dense, Gptq, GptqTiled {
        int in();

        int out();
    }

    /** Raw (out, in) weight in its stored float type; dtype as embedding_rows / dense_matmul number it. */
    record Dense(long w, int in, int out, int dtype) implements DeviceLinear {}

    record Gptq(GptqDevice g) implements DeviceLinear {
        public int in() { return g.in(); }

        public int out() { return g.out(); }
    }

    /** An eligible 2-, 4- or 8-bit GPTQ layer, in the tiled layout only. */
    record GptqTiled(GptqTiledDevice g) implements DeviceLinear {
        public int in() { return g.in(); }

        public int out() { return g.out(); }
    }

    /**
     * Linear layers that read one input (q/k/v, gate/up), run as one launch where they fuse — every part in the
     * tiled layout with the same width, group structure and act-order permutation ({@link GptqTileLayout#concat}):
     * {@code fused} is then the concatenation (columns of the parts back to back) and {@code parts} is empty;
     * otherwise {@code fused} is null and {@code parts} holds them one by one. {@code outs}: each part's width.
     */
    record Projections(GptqTiled fused, List<DeviceLinear> parts, int[] outs) {}

    record Layer(long attentionNorm, Projections qkv, DeviceLinear o, long mlpNorm, Projections gateUp,
                 DeviceLinear down) {}

    final long embedding;    // (vocab, hidden) in embeddingDtype
    final int embeddingDtype;
    final List<Layer> layers;
    final long finalNorm;    // fp32 (hidden)
    final DeviceLinear lmHead;
    final long ropeCos, ropeSin; // fp32 (maxPositions, headDim/2), the CPU RopeTable's values
    private final Map<Tensor, Long> uploaded = new IdentityHashMap<>(); // a tied lm_head is uploaded once

    CudaWeights(LlamaWeights w, RopeTable rope, DeviceMemory mem) {
        this.embedding = tensor(w.embedding(), mem);
        this.embeddingDtype = dtypeCode(w.embedding().dtype());
        List<Layer> ls = new ArrayList<>();
        for (LayerWeights l : w.layers()) {
            ls.add(new Layer(mem.upload(l.attentionNorm()), projections(List.of(l.q(), l.k(), l.v()), mem),
                    linear(l.o(), mem), mem.upload(l.mlpNorm()), projections(List.of(l.gate(), l.up()), mem),
                    linear(l.down(), mem)));
        }
        this.layers = List.copyOf(ls);
        this.finalNorm = mem.upload(w.finalNorm());
        this.lmHead = linear(w.lmHead(), mem);
        this.ropeCos = mem.upload(rope.cos());
        this.ropeSin = mem.upload(rope.sin());
    }

    static int dtypeCode(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 2;
            default -> throw new IllegalArgumentException("unsupported float type on the GPU: " + t);
        };
    }

    private long tensor(Tensor t, DeviceMemory mem) {
        return uploaded.computeIfAbsent(t, u -> mem.upload(u.data()));
    }

    private DeviceLinear linear(Linear lin, DeviceMemory mem) {
        return switch (lin) {
            case DenseLinear d -> new Dense(tensor(d.weight(), mem), d.inFeatures(), d.outFeatures(), dtypeCode(d.weight().dtype()));
            case GptqLinear g when GptqTileLayout.eligible(g) -> new GptqTiled(tiled(g, mem));
            case GptqLinear g -> new Gptq(gptq(g, mem));
        };
    }

    private Projections projections(List<Linear> lins, DeviceMemory mem) {
        int[] outs = lins.stream().mapToInt(Linear::outFeatures).toArray();
        List<GptqLinear> gs = new ArrayList<>();
        List<GptqTileLayout> tiled = new ArrayList<>();
        for (Linear lin : lins) {
            if (!(lin instanceof GptqLinear g) || !GptqTileLayout.eligible(g)) break;
            gs.add(g);
            tiled.add(GptqTileLayout.pack(g, GptqHostLayout.of(g)));
        }
        if (tiled.size() < lins.size() || GptqTileLayout.fusionMismatch(tiled) != null) {
            List<DeviceLinear> parts = new ArrayList<>();
            for (int i = 0; i < lins.size(); i++) {   // the layouts packed above are uploaded as they are
                parts.add(i < tiled.size() ? new GptqTiled(upload(tiled.get(i), gs.get(i).scales().data(),
                        gs.get(i).bias() == null ? null : gs.get(i).bias().data(), mem)) : linear(lins.get(i), mem));
            }
            return new Projections(null, List.copyOf(parts), outs);
        }
        GptqTileLayout t = GptqTileLayout.concat(tiled);
        boolean anyBias = gs.stream().anyMatch(g -> g.bias() != null);
        short[] scales = new short[Math.multiplyExact(t.groups(), t.out())];
        short[] bias = anyBias ? new short[t.out()] : null;
        int col = 0;
        for (GptqLinear g : gs) {
            int out = g.outFeatures();
            MemorySegment sc = g.scales().data();
            for (int grp = 0; grp < t.groups(); grp++) {
                MemorySegment.copy(sc, ValueLayout.JAVA_SHORT_UNALIGNED, 2L * grp * out, scales, grp * t.out() + col, out);
            }
            if (g.bias() != null) {
                MemorySegment.copy(g.bias().data(), ValueLayout.JAVA_SHORT_UNALIGNED, 0, bias, col, out);
            }
            col += out;
        }
        GptqTiledDevice d = upload(t, MemorySegment.ofArray(scales), bias == null ? null : MemorySegment.ofArray(bias),
                mem);
        return new Projections(new GptqTiled(d), List.of(), outs);
    }

    private static GptqTiledDevice tiled(GptqLinear l, DeviceMemory mem) {
        return upload(GptqTileLayout.pack(l, GptqHostLayout.of(l)), l.scales().data(),
                l.bias() == null ? null : l.bias().data(), mem);
    }

    /** A tiled layout on the device with its fp16 scales (groups, out) and bias (out, or null). */
    private static GptqTiledDevice upload(GptqTileLayout t, MemorySegment scales, MemorySegment bias, DeviceMemory mem) {
        return new GptqTiledDevice(t.in(), t.out(), t.groups(), t.bits(), mem.upload(t.qtiles()),
                mem.upload(MemorySegment.ofArray(t.zeros16())), mem.upload(scales), mem.upload(t.tileGroup()),
                t.perm() == null ? 0 : mem.upload(t.perm()), bias == null ? 0 : mem.upload(bias));
    }

    private static GptqDevice gptq(GptqLinear l, DeviceMemory mem) {
        GptqHostLayout h = GptqHostLayout.of(l);
        int zeroWords = Math.toIntExact(l.qzeros().info().dim(1));
        return new GptqDevice(l.inFeatures(), l.outFeatures(), l.spec().bits(), zeroWords, l.spec().zeroPlusOne(),
                mem.upload(h.qweight()), mem.upload(l.qzeros().data()), mem.upload(l.scales().data()),
                mem.upload(h.gIdx()), h.perm() == null ? 0 : mem.upload(h.perm()),
                l.bias() == null ? 0 : mem.upload(l.bias().data()));
    }
}
