package io.paddock.runtime.cpu;

import io.paddock.format.LittleEndian;
import io.paddock.model.GptqLinear;
import io.paddock.model.GptqPacking;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * A GPTQ layer re-laid-out once, at load time, for {@link GptqMatMul}. Never a float weight matrix: the codes stay
 * packed at their stored width.
 *
 * <p><b>Act-order.</b> Input features are sorted by group (stable), each group padded with phantom inputs
 * (code 0, activation 0) to whole packing units, so every group is one contiguous run of packed rows and the
 * kernel applies one scale per group and output with no gather in its hot loop. {@link #perm} maps each
 * padded position back to the original input; the kernel gathers the activation vector through it once per
 * call (ExLlama and Marlin do the same).
 *
 * <p><b>Tiles.</b> Outputs are cut into blocks of {@code lanes} (one float vector). A block is one contiguous
 * stream that a thread reads front to back: per group, a meta record ({@code lanes} f16 scales, then
 * {@code lanes} int16 zero points with the +1 of legacy checkpoints already applied), then the group's
 * packed rows, each {@code lanes} int32 words (one word of codes per output lane). A word holds the codes of
 * consecutive (permuted) inputs at their GPTQ bit positions, 16/8/4 of them for 2/4/8 bits and ten for 3 bits
 * (see {@link GptqPieces} for why not AutoGPTQ's 32-in-3-words), so one vector load gives 8 (4-bit) codes for
 * each of 16 outputs. Output lanes past {@code out} hold scale 0, zero 0, code 0.
 */
public final class GptqMatrix implements AutoCloseable {
    static final int LANES = FloatVector.SPECIES_PREFERRED.length();

    private final Arena arena;    // owns the tiles, or null when they belong to a mapped prepared-weights file
    final GptqPieces pieces;
    final int in;                 // original input features
    final int out;
    final int groups;
    final int blocks;             // ceil(out / LANES)
    final int[] perm;             // (paddedIn) original input feature, or -1 for a padding position
    final int[] groupUnits;       // (groups) packing units in each group
    final int[] groupUnitStart;   // (groups + 1) first unit of each group, in padded order
    final long blockBytes;        // bytes of one block's stream
    final MemorySegment tiles;    // (blocks, blockBytes) see the class comment
    final float[] bias;           // (out), or null

    private GptqMatrix(Arena arena, Plan plan, MemorySegment tiles, float[] bias) {
        this.arena = arena;
        this.pieces = plan.pieces();
        this.in = plan.in();
        this.out = plan.out();
        this.groups = plan.groups();
        this.blocks = plan.blocks();
        this.perm = plan.perm();
        this.groupUnits = plan.groupUnits();
        this.groupUnitStart = plan.groupUnitStart();
        this.blockBytes = 4 * plan.blockInts();
        this.tiles = tiles;
        this.bias = bias;
    }

    /** Output features. */
    public int rows() {
        return out;
    }

    /** Input features. */
    public int cols() {
        return in;
    }

    public int bits() {
        return pieces.bits();
    }

    /** Bytes the kernel reads per call: the tiles (codes, scales, zeros), the permutation and the bias. */
    public long bytes() {
        return tiles.byteSize() + 4L * perm.length + (bias == null ? 0 : 4L * bias.length);
    }

    /** Padded input positions (original inputs plus per-group padding to whole units). */
    int paddedIn() {
        return perm.length;
    }

    /** Number of pieces (activation slots) per batch row: see {@link GptqPieces}. */
    int pieceCount() {
        return perm.length / pieces.codes() * pieces.pieces();
    }

    /**
     * What the layout of a layer depends on besides the codes: the padded input order and the group table. Cheap
     * (one pass over {@code g_idx}); the prepared-weights cache recomputes it on every load rather than trusting a
     * file for it.
     *
     * @param pos       (in) padded position of each original input
     * @param blockInts ints in one block's stream
     */
    record Plan(GptqPieces pieces, int in, int out, int groups, int[] perm, int[] pos, int[] groupUnits,
                int[] groupUnitStart, long blockInts) {
        int blocks() {
            return Math.ceilDiv(out, LANES);
        }

        /** Bytes of the whole tile stream (all blocks). */
        long tileBytes() {
            return 4L * blockInts * blocks();
        }
    }

    static Plan plan(GptqLinear l) {
        int bits = l.spec().bits();
        GptqPieces pc = GptqPieces.of(bits);
        int in = l.inFeatures(), out = l.outFeatures();
        int groups = Math.toIntExact(l.scales().info().dim(0));
        check(l, groups);

        // Stable sort of the inputs by group, each group padded to whole units.
        int[] count = new int[groups];
        for (int i = 0; i < in; i++) count[groupOf(l, i, groups)]++;
        int[] groupUnits = new int[groups];
        int[] groupUnitStart = new int[groups + 1];
        for (int g = 0; g < groups; g++) {
            groupUnits[g] = Math.ceilDiv(count[g], pc.codes());
            groupUnitStart[g + 1] = groupUnitStart[g] + groupUnits[g];
        }
        int paddedIn = groupUnitStart[groups] * pc.codes();
        int[] perm = new int[paddedIn];
        Arrays.fill(perm, -1);
        int[] pos = new int[in];          // (in) padded position of each original input
        int[] next = new int[groups];
        for (int g = 0; g < groups; g++) next[g] = groupUnitStart[g] * pc.codes();
        for (int i = 0; i < in; i++) {
            int p = next[groupOf(l, i, groups)]++;
            perm[p] = i;
            pos[i] = p;
        }
        long blockInts = (long) LANES * (groups + (long) groupUnitStart[groups] * pc.words());
        return new Plan(pc, in, out, groups, perm, pos, groupUnits, groupUnitStart, blockInts);
    }

    /** The tile stream of {@code l} (see the class comment), (blocks, blockInts) ints, built on the heap. */
    static int[] tiles(GptqLinear l, Plan plan) {
        int bits = l.spec().bits();
        GptqPieces pc = plan.pieces();
        int in = plan.in(), out = plan.out(), groups = plan.groups();
        int[] pos = plan.pos(), groupUnitStart = plan.groupUnitStart();
        int lanes = LANES;
        int blocks = plan.blocks();
        long blockInts = plan.blockInts();
        int[] t = new int[Math.toIntExact(blockInts * blocks)];   // (blocks, blockInts)
        int[] groupBase = new int[groups];                         // int offset of each group's meta in a block
        for (int g = 0; g < groups; g++) groupBase[g] = lanes * (g + groupUnitStart[g] * pc.words());

        // Meta: f16 scale bits in the low halves of words [0, lanes/2), zeros in [lanes/2, lanes).
        int zeroWords = l.zeroWords();
        int[] zrow = new int[zeroWords];
        for (int g = 0; g < groups; g++) {
            MemorySegment.copy(l.qzeros().data(), ValueLayout.JAVA_INT_UNALIGNED, 4L * g * zeroWords, zrow, 0, zeroWords);
            for (int o = 0; o < out; o++) {
                int z = GptqPacking.extract(zrow, 0, 1, bits, o) + (l.spec().zeroPlusOne() ? 1 : 0);
                short s = l.scales().data().getAtIndex(LittleEndian.I16, (long) g * out + o);
                int base = (int) ((o / lanes) * blockInts) + groupBase[g];
                int lane = o % lanes;
                putShort(t, base, lane, s);
                putShort(t, base, lanes + lane, (short) z);
            }
        }

        // Codes: read 32 original inputs (bits word rows) at a time, scatter each code to its padded position.
        int rowsTotal = Math.toIntExact(l.qweight().info().dim(0));
        int[] chunk = new int[bits * out];
        for (int i0 = 0; i0 < in; i0 += 32) {
            int r0 = i0 / 32 * bits;
            int nr = Math.min(bits, rowsTotal - r0);
            MemorySegment.copy(l.qweight().data(), ValueLayout.JAVA_INT_UNALIGNED, 4L * r0 * out, chunk, 0, nr * out);
            for (int i = i0; i < Math.min(in, i0 + 32); i++) {
                int p = pos[i];
                int unit = p / pc.codes(), c = p % pc.codes();
                int g = groupOf(l, i, groups);
                int bit = c * bits, k = bit >>> 5, shift = bit & 31;
                int rowBase = groupBase[g] + lanes + ((unit - groupUnitStart[g]) * pc.words() + k) * lanes;
                for (int o = 0; o < out; o++) {
                    int q = GptqPacking.extract(chunk, o, out, bits, i - i0);
                    int idx = (int) ((o / lanes) * blockInts) + rowBase + o % lanes;
                    t[idx] |= q << shift;
                    if (shift + bits > 32) t[idx + lanes] |= q >>> (32 - shift);
                }
            }
        }
        return t;
    }

    public static GptqMatrix prepare(GptqLinear l) {
        Plan plan = plan(l);
        int[] t = tiles(l, plan);
        Arena arena = Arena.ofShared();
        MemorySegment tiles = arena.allocate(4L * t.length, 64);
        MemorySegment.copy(t, 0, tiles, ValueLayout.JAVA_INT_UNALIGNED, 0, t.length);
        return new GptqMatrix(arena, plan, tiles, bias(l));
    }

    /**
     * A matrix over tiles that live elsewhere (a mapped prepared-weights file): {@link #close()} leaves them alone,
     * their owner unmaps them after the matrix is gone.
     */
    static GptqMatrix over(GptqLinear l, Plan plan, MemorySegment tiles) {
        if (tiles.byteSize() != plan.tileBytes()) {
            throw new IllegalArgumentException(l.name() + ": " + tiles.byteSize() + " tile bytes, the layout needs "
                    + plan.tileBytes());
        }
        return new GptqMatrix(null, plan, tiles, bias(l));
    }

    private static float[] bias(GptqLinear l) {
        if (l.bias() == null) return null;
        float[] bias = new float[l.outFeatures()];
        for (int o = 0; o < bias.length; o++) bias[o] = l.bias(o);
        return bias;
    }

    private static void putShort(int[] t, int base, int index, short v) {
        int w = base + index / 2, sh = (index & 1) * 16;
        t[w] = (t[w] & ~(0xFFFF << sh)) | ((v & 0xFFFF) << sh);
    }

    private static int groupOf(GptqLinear l, int i, int groups) {
        int g = l.group(i);
        if (g < 0 || g >= groups) {
            throw new IllegalArgumentException(l.name() + ": g_idx[" + i + "] = " + g + " is outside [0, " + groups + ")");
        }
        return g;
    }

    private static void check(GptqLinear l, int groups) {
        int bits = l.spec().bits();
        long in = l.inFeatures(), out = l.outFeatures();
        long qRows = l.qweight().info().dim(0), qCols = l.qweight().info().dim(1);
        if (qCols != out || qRows * 32 < in * bits) {
            throw new IllegalArgumentException(l.name() + ": qweight " + l.qweight().info().shapeString() + " does not hold "
                    + in + "x" + out + " codes of " + bits + " bits");
        }
        if (l.scales().info().dim(1) != out || l.qzeros().info().dim(0) != groups
                || l.qzeros().info().dim(1) * 32 < out * bits) {
            throw new IllegalArgumentException(l.name() + ": scales " + l.scales().info().shapeString() + " / qzeros "
                    + l.qzeros().info().shapeString() + " do not match " + out + " outputs of " + bits + " bits");
        }
        if (l.spec().groupSize() > 0 && l.gIdx() == null && (long) groups * l.spec().groupSize() < in) {
            throw new IllegalArgumentException(l.name() + ": " + groups + " groups of " + l.spec().groupSize()
                    + " do not cover " + in + " inputs");
        }
    }

    /** Frees the tiles it owns; the matrix must not be used afterwards. */
    @Override
    public void close() {
        if (arena != null) arena.close();
    }
}
