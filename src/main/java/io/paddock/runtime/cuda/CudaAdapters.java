package io.paddock.runtime.cuda;

import io.paddock.lora.LoraAdapter;
import io.paddock.lora.LoraModule;
import io.paddock.lora.LoraPair;
import io.paddock.model.LlamaConfig;
import io.paddock.runtime.StepChunk;
import java.util.Arrays;
import java.util.List;

/**
 * LoRA adapter slots on the device, applied unmerged by {@code lora_shrink} / {@code lora_expand} (lora.cu). Sizes
 * mirror {@link GpuFootprint#adapterBytes}: one fp32 allocation holds, per layer and {@link LoraModule} in order,
 * A as (slots, maxRank, in) then B transposed as (slots, maxRank, out); slot s (1..slots) sits at index s-1 and uses
 * its first rank rows. Two small arrays hold every (layer, module, slot)'s rank (0: the slot's adapter leaves that
 * module alone) and scale. Per step: the int32 slot of each row and the (rows, maxRank) shrink result.
 */
final class CudaAdapters implements AutoCloseable {
    private static final int MODULES = LoraModule.values().length;

    private final DeviceMemory mem;
    private final LlamaConfig c;
    final int slots, maxRank;
    private final int[][] shapes;          // LoraModule order: {in, out}
    private final long weights;            // fp32 A and Bt blocks of every layer and module
    private final long[] aAt, btAt;        // [layer * 7 + module] device address of the (slots, maxRank, in|out) block
    final long ranks, scales;              // int32 / fp32 (layers, 7, slots)
    private final int[] hostRanks;         // the device's ranks, mirrored
    private final float[] hostScales;
    private final String[] names;          // [slot - 1] the loaded adapter's name, null where empty
    long rowSlot, shrunk;                  // int32 (rows), fp32 (rows, maxRank)
    int rows;
    private final long slotBytes;

    CudaAdapters(DeviceMemory mem, LlamaConfig c, int slots, int maxRank, int rows) {
        if (slots < 1 || maxRank < 1 || rows < 1) throw new IllegalArgumentException("adapter slots, rank and rows must be >= 1");
        this.mem = mem;
        this.c = c;
        this.slots = slots;
        this.maxRank = maxRank;
        this.shapes = GpuFootprint.loraShapes(c);
        int layers = c.numLayers();
        this.aAt = new long[layers * MODULES];
        this.btAt = new long[layers * MODULES];
        long floats = 0;
        for (int l = 0; l < layers; l++) {
            for (int m = 0; m < MODULES; m++) floats += (long) slots * maxRank * (shapes[m][0] + shapes[m][1]);
        }
        int entries = layers * MODULES * slots;
        this.hostRanks = new int[entries];
        this.hostScales = new float[entries];
        this.names = new String[slots];
        long w = 0, r = 0, s = 0;
        try {
            w = mem.alloc(floats * Float.BYTES);
            r = mem.alloc((long) entries * Integer.BYTES);
            s = mem.alloc((long) entries * Float.BYTES);
            mem.copyToDevice(r, hostRanks, entries);
            mem.copyToDevice(s, hostScales, entries);
            long at = w;
            for (int l = 0; l < layers; l++) {
                for (int m = 0; m < MODULES; m++) {
                    aAt[l * MODULES + m] = at;
                    at += 4L * slots * maxRank * shapes[m][0];
                    btAt[l * MODULES + m] = at;
                    at += 4L * slots * maxRank * shapes[m][1];
                }
            }
            resizeStep(rows);
        } catch (RuntimeException | Error e) {
            mem.free(rowSlot);
            mem.free(shrunk);
            mem.free(w);
            mem.free(r);
            mem.free(s);
            throw e;
        }
        this.weights = w;
        this.ranks = r;
        this.scales = s;
        this.slotBytes = floats * Float.BYTES + 8L * entries;
    }

    /** Device bytes of the slots themselves (without the per-step buffers). */
    long slotBytes() {
        return slotBytes;
    }

    /** Device bytes of the per-step buffers. */
    long stepBytes() {
        return GpuFootprint.adapterStepBytes(rows, maxRank);
    }

    /** Re-allocates the per-step buffers for steps of up to {@code rows} rows. */
    void resizeStep(int rows) {
        mem.free(rowSlot);
        mem.free(shrunk);
        rowSlot = shrunk = 0;
        this.rows = 0;
        rowSlot = mem.alloc(4L * rows);
        shrunk = mem.alloc(4L * rows * maxRank);
        this.rows = rows;
    }

    void checkSlot(int slot) {
        if (slot < 1 || slot > slots) {
            throw new IllegalArgumentException("LoRA slot " + slot + " is not reserved (slots 1.." + slots + ")");
        }
    }

    boolean loaded(int slot) {
        return slot >= 1 && slot <= slots && names[slot - 1] != null;
    }

    /** The rank of {@code module} of {@code layer} in {@code slot} (0 where its adapter leaves it alone or it is empty). */
    int rank(int slot, int layer, LoraModule module) {
        return hostRanks[(layer * MODULES + module.ordinal()) * slots + slot - 1];
    }

    long a(int layer, LoraModule module) {
        return aAt[layer * MODULES + module.ordinal()];
    }

    int in(LoraModule module) {
        return shapes[module.ordinal()][0];
    }

    int out(LoraModule module) {
        return shapes[module.ordinal()][1];
    }

    long bt(int layer, LoraModule module) {
        return btAt[layer * MODULES + module.ordinal()];
    }

    /** Device address of the (slots) ranks of one layer and module. */
    long ranks(int layer, LoraModule module) {
        return ranks + 4L * (layer * MODULES + module.ordinal()) * slots;
    }

    long scales(int layer, LoraModule module) {
        return scales + 4L * (layer * MODULES + module.ordinal()) * slots;
    }

    /**
     * Checks every pair of {@code adapter} against the model and the reserved rank, then uploads it into
     * {@code slot}; a refused adapter leaves the slot as it was.
     */
    void load(int slot, LoraAdapter adapter) {
        checkSlot(slot);
        if (adapter.numLayers() != c.numLayers()) {
            throw new IllegalArgumentException("LoRA adapter '" + adapter.name() + "' has " + adapter.numLayers()
                    + " layers, the model " + c.numLayers());
        }
        for (int l = 0; l < c.numLayers(); l++) {
            for (LoraModule m : LoraModule.values()) {
                LoraPair p = adapter.pair(l, m);
                if (p == null) continue;
                int in = shapes[m.ordinal()][0], out = shapes[m.ordinal()][1];
                if (p.in() != in || p.out() != out) {
                    throw new IllegalArgumentException(String.format("LoRA adapter '%s', layer %d %s: lora_A [%d, %d] "
                                    + "and lora_B [%d, %d] do not fit the model's %s of %d inputs and %d outputs "
                                    + "(expected lora_A [r, %d], lora_B [%d, r])", adapter.name(), l, m.peftName(),
                            p.rank(), p.in(), p.out(), p.rank(), m.peftName(), in, out, in, out));
                }
                if (p.rank() > maxRank) {
                    throw new IllegalArgumentException(String.format("LoRA adapter '%s', layer %d %s: rank %d "
                                    + "(lora_A [%d, %d], lora_B [%d, %d]) exceeds the reserved maximum rank %d",
                            adapter.name(), l, m.peftName(), p.rank(), p.rank(), p.in(), p.out(), p.rank(), maxRank));
                }
            }
        }
        for (int l = 0; l < c.numLayers(); l++) {
            for (LoraModule m : LoraModule.values()) {
                int e = (l * MODULES + m.ordinal()) * slots + slot - 1;
                LoraPair p = adapter.pair(l, m);
                hostRanks[e] = p == null ? 0 : p.rank();
                hostScales[e] = p == null ? 0f : p.scale();
                if (p == null) continue;
                int in = p.in(), out = p.out(), r = p.rank();
                mem.copyToDevice(a(l, m) + 4L * (slot - 1) * maxRank * in, p.a(), r * in);
                float[] bt = new float[r * out];   // B (out, r) transposed to (r, out)
                float[] b = p.b();
                for (int o = 0; o < out; o++) {
                    for (int j = 0; j < r; j++) bt[j * out + o] = b[o * r + j];
                }
                mem.copyToDevice(bt(l, m) + 4L * (slot - 1) * maxRank * out, bt, bt.length);
            }
        }
        uploadMeta();
        names[slot - 1] = adapter.name();
    }

    void unload(int slot) {
        checkSlot(slot);
        for (int e = slot - 1; e < hostRanks.length; e += slots) {
            hostRanks[e] = 0;
            hostScales[e] = 0f;
        }
        uploadMeta();
        names[slot - 1] = null;
    }

    private void uploadMeta() {
        mem.copyToDevice(ranks, hostRanks, hostRanks.length);
        mem.copyToDevice(scales, hostScales, hostScales.length);
    }

    /**
     * The rows' slots of one step, checked (every named slot reserved and loaded); null where every row runs on the
     * base model, which then costs no LoRA launch at all.
     */
    static int[] rowSlots(List<StepChunk> chunks, int rows, CudaAdapters adapters) {
        boolean any = false;
        for (StepChunk ch : chunks) any |= ch.adapterSlot() != 0;
        if (!any) return null;
        if (adapters == null) {
            throw new IllegalArgumentException("a step chunk names LoRA slot " + chunks.stream()
                    .mapToInt(StepChunk::adapterSlot).filter(s -> s != 0).findFirst().orElse(0)
                    + ", but no adapter slots are reserved");
        }
        int[] out = new int[rows];
        int r = 0;
        for (StepChunk ch : chunks) {
            int s = ch.adapterSlot();
            if (s != 0) {
                adapters.checkSlot(s);
                if (!adapters.loaded(s)) throw new IllegalArgumentException("LoRA slot " + s + " is empty");
            }
            Arrays.fill(out, r, r + ch.tokens().length, s);
            r += ch.tokens().length;
        }
        return out;
    }

    /** Whether any slot of {@code used} (flags by slot) adapts {@code module} of {@code layer}. */
    boolean adapts(boolean[] used, int layer, LoraModule module) {
        int base = (layer * MODULES + module.ordinal()) * slots;
        for (int s = 1; s <= slots; s++) if (used[s] && hostRanks[base + s - 1] > 0) return true;
        return false;
    }

    @Override
    public void close() {
        mem.free(rowSlot);
        mem.free(shrunk);
        mem.free(weights);
        mem.free(ranks);
        mem.free(scales);
    }
}
