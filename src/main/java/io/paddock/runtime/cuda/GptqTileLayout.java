package io.paddock.runtime.cuda;

import io.paddock.model.GptqLinear;
import io.paddock.model.GptqPacking;
import java.util.Arrays;
import java.util.List;

/**
 * The tiled GPTQ layout ("tiled GPTQ", docs/gpu-kernels.md) for 2-, 3-, 4- and 8-bit codes that gptq_gemv.cu and
 * (4-bit) the tensor-core GEMM read: one copy on the device per eligible layer, built at load from the act-order
 * re-packed tensors of {@link GptqHostLayout}. K = in, N = out, inputs in the sorted (act-order) order, q(k, n) the
 * unsigned code of sorted input k and output n, b = bits.
 *
 * <ul>
 *   <li>{@code qtiles} int32 (K·N·b/32): tile (kt, nt) of 16 inputs × 64 outputs is 32·b words starting at word
 *       ((nt·(K/16)) + kt)·32·b (the tiles of one 64-column panel are consecutive along k); lane L (0..31) owns b
 *       words of it, its word j at 4L + 128·(j &gt;&gt; 2) + (j &amp; 3) for 8 bits (two 16-byte loads) and at
 *       b·L + j for 4 and 2 bits (one 16- or 8-byte load); 3 bits below. With g = L &gt;&gt; 2,
 *       tig = L &amp; 3 and P = 16/b code pairs per word, code p of word j (bits b·p..b·p+b-1): i = p mod P,
 *       hi = p / P, subtile t = (P/2)·j + (i &gt;&gt; 1), r = i &amp; 1, k = kt·16 + 2·tig + hi + 8·r,
 *       n = nt·64 + 8·t + g. So {@code ((w >> b·i) & m) | 0x64006400}, m = 2^b − 1 in both halves, read as
 *       half2 is (1024 + q(k0, n), 1024 + q(k0 + 1, n)), k0 = kt·16 + 2·tig + 8·r: register r of the m16n8k16
 *       B fragment of n8 block t for that lane.</li>
 *   <li>3 bits (P = 16/3 is no integer; 96 words a tile, 3 a lane): lane L's word j lies at 32·j + L (three
 *       coalesced 128-byte warp loads). The lane's 16 code pairs, pair m = 2·t + r of the codes
 *       (q(k0, n), q(k0 + 1, n)) with k0 and n as above: pairs 0..14 sit in word m / 5 at bits 3p..3p+2 (low code)
 *       and 16 + 3p.. (high code), p = m mod 5, so the same {@code ((w >> 3p) & 0x00070007) | 0x64006400} reads
 *       them; pair 15 (t = 7, r = 1) fills the spare bits: bit j of its low code is bit 15 of word j, bit j of its
 *       high code bit 31, gathered as {@code ((w0 >> 15) & 0x00010001) | ((w1 >> 14) & 0x00020002)
 *       | ((w2 >> 13) & 0x00040004)}.</li>
 *   <li>{@code zeros16} fp16 (groups, N): 1024 + zero (+1 with zeroPlusOne), an exact integer in fp16 (at most
 *       1280).</li>
 *   <li>{@code tileGroup} int32 (K/16): the group of every input of k-tile kt.</li>
 *   <li>{@code perm} int32 (K): original input at sorted position p, or null for the identity.</li>
 * </ul>
 * Scales and bias stay as stored (fp16 (groups, N), fp16 (N)).
 */
record GptqTileLayout(int bits, int in, int out, int groups, int[] qtiles, short[] zeros16, int[] tileGroup,
                      int[] perm) {
    static final int TILE_K = 16, TILE_N = 64;

    /**
     * Why {@code l} cannot use the tiled layout, naming the layer, or null where it can: 2, 3, 4 or 8 bits,
     * in % 16 == 0, out % 64 == 0 and every 16-input k-tile inside one group after the stable sort by group (each
     * group's input count a multiple of 16).
     */
    static String ineligibility(GptqLinear l) {
        int bits = l.spec().bits(), in = l.inFeatures(), out = l.outFeatures();
        String shape = shapeIneligibility(bits, in, out);
        if (shape != null) return l.name() + ": " + shape;
        int groups = Math.toIntExact(l.scales().info().dim(0));
        int[] count = new int[groups];
        for (int i = 0; i < in; i++) {
            int g = l.group(i);
            if (g < 0 || g >= groups) return l.name() + ": g_idx[" + i + "] = " + g + " is outside [0, " + groups + ")";
            count[g]++;
        }
        // After the stable sort group g occupies [Σ count[<g], Σ count[≤g]): every boundary on a multiple of 16
        // exactly when every count is one.
        for (int g = 0; g < groups; g++) {
            if (count[g] % TILE_K != 0) {
                return l.name() + ": group " + g + " has " + count[g] + " inputs, not a multiple of " + TILE_K
                        + " (a 16-input k-tile would straddle groups)";
            }
        }
        return null;
    }

    static boolean eligible(GptqLinear l) {
        return ineligibility(l) == null;
    }

    /**
     * The same decision for a hypothetical layer with every group full ({@code groupSize} inputs; -1 for one group),
     * as {@link GpuFootprint} needs it without tensors: the last group holds in % groupSize inputs.
     */
    static boolean eligible(int bits, int in, int out, int groupSize) {
        if (shapeIneligibility(bits, in, out) != null) return false;
        return groupSize == -1 || (groupSize % TILE_K == 0 && (in % groupSize) % TILE_K == 0);
    }

    private static String shapeIneligibility(int bits, int in, int out) {
        if (bits < 2 || bits > 4 && bits != 8) return bits + "-bit codes (the tiled layout takes 2, 3, 4 and 8 bits)";
        if (in % TILE_K != 0) return "in = " + in + " is not a multiple of " + TILE_K;
        if (out % TILE_N != 0) return "out = " + out + " is not a multiple of " + TILE_N;
        return null;
    }

    /** Word offset, inside its tile, of word j of lane {@code lane} (b words per lane). */
    static int laneWord(int bits, int lane, int j) {
        return switch (bits) {
            case 8 -> 4 * lane + 128 * (j >> 2) + (j & 3);
            case 3 -> 32 * j + lane;
            default -> bits * lane + j;
        };
    }

    /**
     * 3 bits: where the code of pair {@code m} (0..15, m = 2·t + r) and half {@code hi} (0: input k0, 1: k0 + 1)
     * has bit {@code bit} (0..2), as word · 32 + bit position in the lane's three words.
     */
    static int threeBitPosition(int m, int hi, int bit) {
        return m < 15 ? (m / 5) * 32 + 3 * (m % 5) + bit + 16 * hi : bit * 32 + 15 + 16 * hi;
    }

    /** The tiled tensors of eligible layer {@code l} from its re-packed host layout {@code h}. */
    static GptqTileLayout pack(GptqLinear l, GptqHostLayout h) {
        String why = ineligibility(l);
        if (why != null) throw new IllegalArgumentException("not eligible for the tiled GPTQ layout: " + why);
        int bits = l.spec().bits(), in = l.inFeatures(), out = l.outFeatures();
        int kTiles = in / TILE_K, nTiles = out / TILE_N;
        int groups = Math.toIntExact(l.scales().info().dim(0));
        int tileWords = 32 * bits, pairs = 16 / bits, codes = 32 / bits;
        int[] q = h.qweight();   // (in·bits/32, out): sorted input k is code k of column n's bit stream
        int[] tiles = new int[Math.toIntExact((long) in * out * bits / 32)];
        for (int nt = 0; nt < nTiles; nt++) {
            for (int kt = 0; kt < kTiles; kt++) {
                int base = (nt * kTiles + kt) * tileWords;
                for (int lane = 0; lane < 32; lane++) {
                    int g = lane >> 2, tig = lane & 3;
                    if (bits == 3) {
                        int[] w = new int[3];
                        for (int m = 0; m < 16; m++) {
                            for (int hi = 0; hi < 2; hi++) {
                                int k = kt * TILE_K + 2 * tig + hi + 8 * (m & 1), n = nt * TILE_N + 8 * (m >> 1) + g;
                                int c = GptqPacking.extract(q, n, out, bits, k);
                                for (int b = 0; b < 3; b++) {
                                    int at = threeBitPosition(m, hi, b);
                                    w[at >> 5] |= ((c >> b) & 1) << (at & 31);
                                }
                            }
                        }
                        for (int j = 0; j < 3; j++) tiles[base + laneWord(3, lane, j)] = w[j];
                        continue;
                    }
                    for (int j = 0; j < bits; j++) {
                        int w = 0;
                        for (int p = 0; p < codes; p++) {
                            int i = p % pairs, hi = p / pairs, t = (pairs / 2) * j + (i >> 1), r = i & 1;
                            int k = kt * TILE_K + 2 * tig + hi + 8 * r, n = nt * TILE_N + 8 * t + g;
                            w |= GptqPacking.extract(q, n, out, bits, k) << (bits * p);
                        }
                        tiles[base + laneWord(bits, lane, j)] = w;
                    }
                }
            }
        }
        int zeroWords = l.zeroWords(), plusOne = l.spec().zeroPlusOne() ? 1 : 0;
        short[] zeros16 = new short[Math.multiplyExact(groups, out)];
        for (int g = 0; g < groups; g++) {
            for (int n = 0; n < out; n++) {
                int z = GptqPacking.extract(l.qzeros().data(), (long) g * zeroWords, 1, bits, n) + plusOne;
                zeros16[g * out + n] = Float.floatToFloat16(1024f + z);   // 1024..1280: exact in fp16
            }
        }
        int[] tileGroup = new int[kTiles];
        for (int kt = 0; kt < kTiles; kt++) tileGroup[kt] = h.gIdx()[kt * TILE_K];
        return new GptqTileLayout(bits, in, out, groups, tiles, zeros16, tileGroup, h.perm());
    }

    /**
     * Why layers {@code parts} (read from one input) cannot be fused into one launch, or null where they can: the
     * same code width, inputs and group structure (tileGroup) and the same act-order permutation. q/k/v (and
     * gate/up) are quantized from the same layer input, so GPTQ's act-order sorts their inputs alike.
     */
    static String fusionMismatch(List<GptqTileLayout> parts) {
        GptqTileLayout a = parts.getFirst();
        for (GptqTileLayout b : parts) {
            if (b.bits != a.bits) return "code widths differ (" + a.bits + " and " + b.bits + " bits)";
            if (b.in != a.in) return "inputs differ (" + a.in + " and " + b.in + ")";
            if (b.groups != a.groups || !Arrays.equals(b.tileGroup, a.tileGroup)) return "group structures differ";
            if (!Arrays.equals(b.perm, a.perm)) return "act-order permutations differ";
        }
        return null;
    }

    /**
     * The layers {@code parts} as one layer whose output columns are theirs back to back: panel-major tiles
     * concatenate as they are, zeros16 row by row per group; tileGroup and perm are shared
     * ({@link #fusionMismatch} must be null).
     */
    static GptqTileLayout concat(List<GptqTileLayout> parts) {
        String why = fusionMismatch(parts);
        if (why != null) throw new IllegalArgumentException("cannot fuse: " + why);
        GptqTileLayout a = parts.getFirst();
        int out = 0;
        long words = 0;
        for (GptqTileLayout p : parts) {
            out = Math.addExact(out, p.out);
            words += p.qtiles.length;
        }
        int[] tiles = new int[Math.toIntExact(words)];
        short[] zeros = new short[Math.multiplyExact(a.groups, out)];
        int at = 0, col = 0;
        for (GptqTileLayout p : parts) {
            System.arraycopy(p.qtiles, 0, tiles, at, p.qtiles.length);
            at += p.qtiles.length;
            for (int g = 0; g < a.groups; g++) System.arraycopy(p.zeros16, g * p.out, zeros, g * out + col, p.out);
            col += p.out;
        }
        return new GptqTileLayout(a.bits, a.in, out, a.groups, tiles, zeros, a.tileGroup, a.perm);
    }

    /** q(k, n) read back from {@code qtiles} by the layout's formula (the tests' scalar reader). */
    int code(int k, int n) {
        int kt = k / TILE_K, nt = n / TILE_N, kk = k % TILE_K, nn = n % TILE_N;
        int t = nn >> 3, g = nn & 7;
        int r = kk >> 3, tig = (kk & 7) >> 1, hi = kk & 1;
        int lane = g * 4 + tig, tile = (nt * (in / TILE_K) + kt) * 32 * bits;
        if (bits == 3) {
            int c = 0;
            for (int b = 0; b < 3; b++) {
                int at = threeBitPosition(2 * t + r, hi, b);
                c |= ((qtiles[tile + laneWord(3, lane, at >> 5)] >>> (at & 31)) & 1) << b;
            }
            return c;
        }
        int pairs = 16 / bits;
        int j = t / (pairs / 2), i = 2 * (t % (pairs / 2)) + r, p = i + pairs * hi;
        int w = qtiles[tile + laneWord(bits, lane, j)];
        return (w >>> (bits * p)) & ((1 << bits) - 1);
    }

    /** Device bytes of the tiled tensors besides scales and bias: qtiles, zeros16, tileGroup and perm. */
    static long tiledBytes(int bits, int in, int out, int groups, boolean perm) {
        return (long) in * out * bits / 8 + 2L * groups * out + 4L * (in / TILE_K) + (perm ? 4L * in : 0);
    }
}
