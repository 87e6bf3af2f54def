package io.paddock.runtime.cuda;

import io.paddock.model.GptqLinear;
import io.paddock.model.GptqPacking;

/**
 * The tiled 4-bit GPTQ layout ("tiled GPTQ", docs/gpu-kernels.md) that gptq_gemv.cu and the tensor-core GEMM read:
 * one copy on the device per eligible layer, built at load from the act-order re-packed tensors of
 * {@link GptqHostLayout}. K = in, N = out, inputs in the sorted (act-order) order, q(k, n) the unsigned code of
 * sorted input k and output n.
 *
 * <ul>
 *   <li>{@code qtiles} int32 (K·N/8): tile (kt, nt) of 16 inputs × 64 outputs starts at word
 *       ((nt·(K/16)) + kt)·128 (the tiles of one 64-column panel are consecutive along k); lane L (0..31) owns words
 *       4L..4L+3, and with g = L &gt;&gt; 2, tig = L &amp; 3, word j, nibble p (bits 4p..4p+3): i = p &amp; 3,
 *       hi = p &gt;&gt; 2, subtile t = 2j + (i &gt;&gt; 1), r = i &amp; 1, k = kt·16 + 2·tig + hi + 8·r,
 *       n = nt·64 + 8·t + g. So {@code ((w >> 4i) & 0x000f000f) | 0x64006400} read as half2 is
 *       (1024 + q(k0, n), 1024 + q(k0 + 1, n)), k0 = kt·16 + 2·tig + 8·r: register r of the m16n8k16 B fragment
 *       of n8 block t for that lane.</li>
 *   <li>{@code zeros16} fp16 (groups, N): 1024 + zero (+1 with zeroPlusOne), an exact integer in fp16.</li>
 *   <li>{@code tileGroup} int32 (K/16): the group of every input of k-tile kt.</li>
 *   <li>{@code perm} int32 (K): original input at sorted position p, or null for the identity.</li>
 * </ul>
 * Scales and bias stay as stored (fp16 (groups, N), fp16 (N)).
 */
record GptqTileLayout(int in, int out, int groups, int[] qtiles, short[] zeros16, int[] tileGroup, int[] perm) {
    static final int TILE_K = 16, TILE_N = 64, TILE_WORDS = 128;

    /**
     * Why {@code l} cannot use the tiled layout, naming the layer, or null where it can: 4 bits, in % 16 == 0,
     * out % 64 == 0 and every 16-input k-tile inside one group after the stable sort by group (each group's input
     * count a multiple of 16).
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
        if (bits != 4) return bits + "-bit codes (the tiled layout is 4-bit only)";
        if (in % TILE_K != 0) return "in = " + in + " is not a multiple of " + TILE_K;
        if (out % TILE_N != 0) return "out = " + out + " is not a multiple of " + TILE_N;
        return null;
    }

    /** The tiled tensors of eligible layer {@code l} from its re-packed host layout {@code h}. */
    static GptqTileLayout pack(GptqLinear l, GptqHostLayout h) {
        String why = ineligibility(l);
        if (why != null) throw new IllegalArgumentException("not eligible for the tiled GPTQ layout: " + why);
        int in = l.inFeatures(), out = l.outFeatures(), kTiles = in / TILE_K, nTiles = out / TILE_N;
        int groups = Math.toIntExact(l.scales().info().dim(0));
        int[] q = h.qweight();   // (in/8, out): sorted input k is nibble k % 8 of word (k / 8, n)
        int[] tiles = new int[Math.multiplyExact(in, out) / 8];
        for (int nt = 0; nt < nTiles; nt++) {
            for (int kt = 0; kt < kTiles; kt++) {
                int base = (nt * kTiles + kt) * TILE_WORDS;
                for (int lane = 0; lane < 32; lane++) {
                    int g = lane >> 2, tig = lane & 3;
                    for (int j = 0; j < 4; j++) {
                        int w = 0;
                        for (int p = 0; p < 8; p++) {
                            int i = p & 3, hi = p >> 2, t = 2 * j + (i >> 1), r = i & 1;
                            int k = kt * TILE_K + 2 * tig + hi + 8 * r, n = nt * TILE_N + 8 * t + g;
                            int code = (q[(k >> 3) * out + n] >>> ((k & 7) * 4)) & 0xf;
                            w |= code << (4 * p);
                        }
                        tiles[base + lane * 4 + j] = w;
                    }
                }
            }
        }
        int zeroWords = l.zeroWords(), plusOne = l.spec().zeroPlusOne() ? 1 : 0;
        short[] zeros16 = new short[Math.multiplyExact(groups, out)];
        for (int g = 0; g < groups; g++) {
            for (int n = 0; n < out; n++) {
                int z = GptqPacking.extract(l.qzeros().data(), (long) g * zeroWords, 1, 4, n) + plusOne;
                zeros16[g * out + n] = Float.floatToFloat16(1024f + z);   // 1024..1040: exact in fp16
            }
        }
        int[] tileGroup = new int[kTiles];
        for (int kt = 0; kt < kTiles; kt++) tileGroup[kt] = h.gIdx()[kt * TILE_K];
        return new GptqTileLayout(in, out, groups, tiles, zeros16, tileGroup, h.perm());
    }

    /** q(k, n) read back from {@code qtiles} by the layout's formula (the tests' scalar reader). */
    int code(int k, int n) {
        int kt = k / TILE_K, nt = n / TILE_N, kk = k % TILE_K, nn = n % TILE_N;
        int t = nn >> 3, g = nn & 7;
        int r = kk >> 3, tig = (kk & 7) >> 1, hi = kk & 1;
        int j = t >> 1, i = ((t & 1) << 1) | r, p = i | (hi << 2);
        int lane = g * 4 + tig;
        int w = qtiles[(nt * (in / TILE_K) + kt) * TILE_WORDS + lane * 4 + j];
        return (w >>> (4 * p)) & 0xf;
    }

    /** Device bytes of the tiled tensors besides scales and bias: qtiles, zeros16, tileGroup and perm. */
    static long tiledBytes(int in, int out, int groups, boolean perm) {
        return (long) in * out / 2 + 2L * groups * out + 4L * (in / TILE_K) + (perm ? 4L * in : 0);
    }
}
