package io.paddock.runtime.cuda;

import static io.paddock.runtime.cuda.KernelSpec.Param.DOUBLE;
import static io.paddock.runtime.cuda.KernelSpec.Param.FLOAT;
import static io.paddock.runtime.cuda.KernelSpec.Param.INT;
import static io.paddock.runtime.cuda.KernelSpec.Param.LONG;
import static io.paddock.runtime.cuda.KernelSpec.Param.PTR;

import io.paddock.runtime.cuda.GpuDevice.Dim3;
import io.paddock.runtime.cuda.GpuDevice.GpuFunction;
import io.paddock.runtime.cuda.GpuDevice.GpuModule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loaded kernel modules and one typed launcher per kernel; grids, blocks and parameter lists follow
 * docs/gpu-kernels.md exactly, and every parameter list is declared once, as a {@link KernelSpec}, which the
 * kernel-source tests hold against the PTX. All launches are ordered as on one stream.
 */
final class CudaKernels implements AutoCloseable {
    static final int DECODE_WARPS = 8;
    static final int DECODE_MAX_BATCH = 4;
    static final int BATCHED_TILE_ROWS = 16;
    static final int BATCHED_TILE_COLS = 128;
    static final int GEMV_MAX_ROWS = 8;      // gptq_gemv.cu GEMV_MAX_ROWS
    static final int GEMV_THREADS = 128;     // 32 * GEMV_WARPS
    /**
     * Rows from which a tiled 4-bit layer runs on the tensor-core GEMM instead of the GEMV: where the performance
     * model (docs/gpu-kernels.md) has the GEMM overtake the GEMV — the GEMV's fp32 FMAs per row make it issue-bound
     * from ~6 rows while one mma.sync serves 16. scripts/gpu-check times both at 1, 4, 8, 16 and 32 rows.
     */
    static final int GEMM_FROM_ROWS = 6;

    static final KernelSpec GATHER = new KernelSpec(KernelSources.GPTQ, "gptq_gather_x",
            List.of(PTR, PTR, PTR, INT, INT), 256);
    static final KernelSpec DECODE = new KernelSpec(KernelSources.GPTQ, "gptq_matmul_decode",
            List.of(PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, INT, INT, INT, INT, INT), 32 * DECODE_WARPS);
    static final KernelSpec BATCHED = new KernelSpec(KernelSources.GPTQ, "gptq_matmul_batched",
            List.of(PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, INT, INT, INT, INT, INT), BATCHED_TILE_COLS);
    static final KernelSpec GEMV = new KernelSpec(KernelSources.GEMV, "gptq_gemv_tiled",
            List.of(PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, INT, INT, PTR, PTR, INT, INT, INT),
            GEMV_THREADS);
    /** gptq_gemv_tiled for the 8-, 2- and 3-bit tiled layouts: one entry per width, the same parameters. */
    static final KernelSpec GEMV_B8 = new KernelSpec(KernelSources.GEMV, "gptq_gemv_tiled_b8", GEMV.params(),
            GEMV_THREADS);
    static final KernelSpec GEMV_B2 = new KernelSpec(KernelSources.GEMV, "gptq_gemv_tiled_b2", GEMV.params(),
            GEMV_THREADS);
    static final KernelSpec GEMV_B3 = new KernelSpec(KernelSources.GEMV, "gptq_gemv_tiled_b3", GEMV.params(),
            GEMV_THREADS);
    static final KernelSpec RMSNORM = new KernelSpec(KernelSources.LAYER_OPS, "rmsnorm_f32",
            List.of(PTR, PTR, PTR, INT, FLOAT), 256);
    static final KernelSpec ROPE = new KernelSpec(KernelSources.LAYER_OPS, "rope_rotate_half_f32",
            List.of(PTR, PTR, INT, INT, PTR, PTR, DOUBLE), 128);
    static final KernelSpec SWIGLU = new KernelSpec(KernelSources.LAYER_OPS, "swiglu_f32", List.of(PTR, PTR, LONG), 256);
    static final KernelSpec ADD = new KernelSpec(KernelSources.LAYER_OPS, "add_inplace_f32", List.of(PTR, PTR, LONG), 256);
    static final KernelSpec ADD_RMSNORM = new KernelSpec(KernelSources.LAYER_OPS, "add_rmsnorm_f32",
            List.of(PTR, PTR, PTR, PTR, INT, FLOAT), 256);
    static final KernelSpec EMBEDDING = new KernelSpec(KernelSources.LAYER_OPS, "embedding_rows",
            List.of(PTR, PTR, PTR, INT, INT), 256);
    static final KernelSpec ARGMAX = new KernelSpec(KernelSources.LAYER_OPS, "argmax_rows", List.of(PTR, PTR, INT), 256);
    static final KernelSpec KV_STORE = new KernelSpec(KernelSources.ATTENTION, "kv_store_f32",
            List.of(PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, INT), 256);
    static final KernelSpec ATTENTION = new KernelSpec(KernelSources.ATTENTION, "paged_attention_f32",
            List.of(PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, INT, INT, INT), 128);
    static final KernelSpec KV_STORE_F16 = new KernelSpec(KernelSources.ATTENTION, "kv_store_f16",
            List.of(PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, INT), 256);
    static final KernelSpec ROPE_KV_STORE_F16 = new KernelSpec(KernelSources.ATTENTION, "rope_kv_store_f16",
            List.of(PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, DOUBLE, INT, INT, INT, INT), 128);
    static final KernelSpec ATTENTION_DECODE_F16 = new KernelSpec(KernelSources.ATTENTION, "paged_attention_decode_f16",
            List.of(PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, INT, INT, INT, INT), 128);
    static final KernelSpec ATTENTION_PREFILL_F16 = new KernelSpec(KernelSources.ATTENTION,
            "paged_attention_prefill_f16", List.of(PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, INT, INT, INT), 128);
    static final KernelSpec DENSE = new KernelSpec(KernelSources.DENSE, "dense_matmul",
            List.of(PTR, PTR, PTR, INT, INT, INT, INT), 256);
    static final KernelSpec LORA_SHRINK = new KernelSpec(KernelSources.LORA, "lora_shrink",
            List.of(PTR, PTR, PTR, PTR, PTR, INT, INT, INT), 256);
    static final KernelSpec LORA_EXPAND = new KernelSpec(KernelSources.LORA, "lora_expand",
            List.of(PTR, PTR, PTR, PTR, PTR, PTR, INT, INT, INT), 256);
    static final KernelSpec MMA_PREPARE_X = new KernelSpec(KernelSources.GPTQ_MMA, "gptq_mma_prepare_x",
            List.of(PTR, PTR, PTR, PTR, INT, INT), 256);
    /** xh, qtiles, zeros16, scales, tileGroup, bias; y0, y1, y2, n0, n1, accumulate (GptqOut); partials, counters. */
    static final KernelSpec MMA_GEMM = new KernelSpec(KernelSources.GPTQ_MMA, "gptq_mma_gemm",
            List.of(PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, INT, INT, PTR, PTR, INT, INT, INT), 128);

    /** Every kernel the runtime launches. */
    static final List<KernelSpec> ALL = List.of(GATHER, DECODE, BATCHED, RMSNORM, ROPE, SWIGLU, ADD, EMBEDDING, ARGMAX,
            KV_STORE, ATTENTION, DENSE, LORA_SHRINK, LORA_EXPAND, MMA_PREPARE_X, MMA_GEMM, ADD_RMSNORM, KV_STORE_F16,
            ATTENTION_DECODE_F16, ATTENTION_PREFILL_F16, GEMV, GEMV_B8, GEMV_B2, ROPE_KV_STORE_F16, GEMV_B3);

    private final GpuDevice device;
    private final List<GpuModule> modules = new ArrayList<>();
    // Identity: the specs are constants, and a record hash over the parameter list on every launch is wasted work.
    private final Map<KernelSpec, GpuFunction> functions = new IdentityHashMap<>();
    private final int smCount;

    CudaKernels(GpuDevice device) {
        this.device = device;
        this.smCount = device.multiprocessorCount();
        try {
            Map<String, String> sources = KernelSources.all();
            Map<String, GpuModule> bySource = new HashMap<>();
            for (KernelSpec k : ALL) {
                GpuModule m = bySource.computeIfAbsent(k.source(), s -> {
                    GpuModule loaded = device.loadModule(s, sources.get(s));
                    modules.add(loaded);
                    return loaded;
                });
                functions.put(k, m.function(k));
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private long launches;

    /** Kernel launches since the runtime started (the GPU benchmark reports launches per call). */
    long launches() {
        return launches;
    }

    private void launch(KernelSpec k, int gx, int gy, int bx, int by, Object... args) {
        launch(k, Dim3.of(gx, gy), Dim3.of(bx, by), args);
    }

    private void launch(KernelSpec k, Dim3 grid, Dim3 block, Object... args) {
        launches++;
        device.launch(functions.get(k), grid, block, k.pack(args));
    }

    private void launch3(KernelSpec k, Dim3 grid, int bx, Object... args) {
        launches++;
        device.launch(functions.get(k), grid, Dim3.of(bx, 1), k.pack(args));
    }

    void embedding(long out, long table, long tokens, int rows, int hidden, int dtype) {
        launch(EMBEDDING, rows, Math.ceilDiv(hidden, 256), 256, 1, out, table, tokens, hidden, dtype);
    }

    void rmsnorm(long out, long x, long weight, int rows, int n, float eps) {
        launch(RMSNORM, rows, 1, 256, 1, out, x, weight, n, eps);
    }

    void rope(long v, long pos, int rows, int heads, int rowStride, int headDim, long cos, long sin, double theta) {
        launch(ROPE, rows, heads, Math.min(headDim / 2, 128), 1, v, pos, rowStride, headDim, cos, sin, theta);
    }

    void swiglu(long gate, long up, long n) {
        launch(SWIGLU, Math.toIntExact(Math.ceilDiv(n, 256)), 1, 256, 1, gate, up, n);
    }

    void add(long a, long b, long n) {
        launch(ADD, Math.toIntExact(Math.ceilDiv(n, 256)), 1, 256, 1, a, b, n);
    }

    /** {@code x += delta}, then {@code out = rmsnorm(x)·weight}, per row of {@code n}; out may be x or delta. */
    void addRmsnorm(long x, long delta, long out, long weight, int rows, int n, float eps) {
        launch(ADD_RMSNORM, rows, 1, 256, 1, x, delta, out, weight, n, eps);
    }

    void argmax(long x, long out, int rows, int n) {
        launch(ARGMAX, rows, 1, 256, 1, x, out, n);
    }

    void kvStore(long kPool, long vPool, long k, long v, long tables, long tableOffset, long pos, int rows, int kvDim,
                 int blockSize) {
        launch(KV_STORE, rows, Math.ceilDiv(kvDim, 256), 256, 1, kPool, vPool, k, v, tables, tableOffset, pos, kvDim, blockSize);
    }

    void attention(long out, long q, long kPool, long vPool, long tables, long tableOffset, long pos, int rows,
                   int heads, int kvHeads, int headDim, int blockSize) {
        launch(ATTENTION, rows, heads, 128, 1, out, q, kPool, vPool, tables, tableOffset, pos, heads, kvHeads, headDim, blockSize);
    }

    /** kv_store_f16: rows of k and v (fp32) rounded to fp16 into an fp16 pool. */
    void kvStoreF16(long kPool, long vPool, long k, long v, long tables, long tableOffset, long pos, int rows,
                    int kvDim, int blockSize) {
        launch(KV_STORE_F16, rows, Math.ceilDiv(kvDim, 256), 256, 1, kPool, vPool, k, v, tables, tableOffset, pos,
                kvDim, blockSize);
    }

    /**
     * rope_kv_store_f16: RoPE on q (rows, heads·headDim) and k (rows, kvHeads·headDim) in place, and the rotated k
     * and v (rows, kvHeads·headDim) rounded to fp16 into the pools at each row's position; one launch, bit-identical
     * to {@link #rope} on q, {@link #rope} on k, then {@link #kvStoreF16}. Grid (rows, heads), block
     * min(headDim/2, 128). {@code cos}/{@code sin} are the RoPE tables, or 0 for the angle computed from
     * {@code theta}.
     */
    void ropeKvStoreF16(long q, long k, long v, long kPool, long vPool, long tables, long tableOffset, long pos,
                        int rows, int heads, int kvHeads, int headDim, int blockSize, long cos, long sin,
                        double theta) {
        if (rows < 1 || kvHeads < 1 || heads < kvHeads || heads % kvHeads != 0 || headDim < 2 || headDim % 2 != 0
                || blockSize < 1 || (cos == 0) != (sin == 0)) {
            throw new IllegalArgumentException("rope_kv_store_f16 needs rows >= 1, heads a multiple of kvHeads, an"
                    + " even headDim, blockSize >= 1 and both RoPE tables or neither: rows=" + rows + " heads=" + heads
                    + " kvHeads=" + kvHeads + " headDim=" + headDim + " blockSize=" + blockSize + " cos="
                    + (cos != 0) + " sin=" + (sin != 0));
        }
        launch(ROPE_KV_STORE_F16, rows, heads, Math.min(headDim / 2, 128), 1, q, k, v, kPool, vPool, tables,
                tableOffset, pos, cos, sin, theta, heads, kvHeads, headDim, blockSize);
    }

    /**
     * Decode attention over an fp16 pool for the {@code decodeCount} rows listed at {@code decodeRows}: one launch,
     * grid (decodeCount, kvHeads, splits); the last partition of a row to finish combines the partitions
     * ({@code counters}: decodeCount·kvHeads ints, zero, left zero). The grid depends on the decode-row count and the
     * fixed {@code splits} only, never on the rows' positions.
     */
    void attentionDecodeF16(long out, long partO, long partML, long counters, long q, long kPool, long vPool,
                            long tables, long tableOffset, long pos, long decodeRows, int decodeCount, int heads,
                            int kvHeads, int headDim, int blockSize, int partSize, int splits) {
        launch(ATTENTION_DECODE_F16, new Dim3(decodeCount, kvHeads, splits), Dim3.of(128, 1), out, partO, partML,
                counters, q, kPool, vPool, tables, tableOffset, pos, decodeRows, heads, kvHeads, headDim, blockSize,
                partSize);
    }

    /** Prefill attention over an fp16 pool for {@code tileCount} tiles of (first row, count) at {@code tiles}. */
    void attentionPrefillF16(long out, long q, long kPool, long vPool, long tables, long tableOffset, long pos,
                             long tiles, int tileCount, int heads, int kvHeads, int headDim, int blockSize) {
        launch(ATTENTION_PREFILL_F16, tileCount, kvHeads, 128, 1, out, q, kPool, vPool, tables, tableOffset, pos, tiles,
                heads, kvHeads, headDim, blockSize);
    }

    void dense(long x, long w, long y, int batch, int in, int out, int dtype) {
        launch(DENSE, Math.ceilDiv(out, 8), Math.ceilDiv(batch, 4), 32, 8, x, w, y, batch, in, out, dtype);
    }

    /**
     * {@code t[row, j] = A_slot(row)[j] · x[row]} for the rows of a non-zero slot, j below the slot's rank; {@code a}
     * is one layer-module's (slots, maxRank, in) block, {@code rank} its (slots) ranks.
     */
    void loraShrink(long x, long a, long rowSlot, long rank, long t, int rows, int in, int maxRank) {
        launch(LORA_SHRINK, rows, Math.ceilDiv(maxRank, 8), 32, 8, x, a, rowSlot, rank, t, rows, in, maxRank);
    }

    /** {@code y[row] += scale_slot · B_slot · t[row]}; {@code bt} is one layer-module's (slots, maxRank, out) block. */
    void loraExpand(long t, long bt, long rowSlot, long rank, long scale, long y, int rows, int out, int maxRank) {
        launch(LORA_EXPAND, rows, Math.ceilDiv(out, 256), 256, 1, t, bt, rowSlot, rank, scale, y, rows, out, maxRank);
    }

    /** y = x·Wᵀ for a GPTQ layer; {@code xp} is scratch for the act-order gather (batch × in floats). */
    void gptq(GptqDevice g, long x, long xp, long y, int batch) {
        long src = x;
        if (g.perm() != 0) {
            launch(GATHER, Math.ceilDiv(g.in(), 256), batch, 256, 1, x, g.perm(), xp, batch, g.in());
            src = xp;
        }
        if (batch <= DECODE_MAX_BATCH) {
            int colBlocks = Math.ceilDiv(g.out(), 32);
            int splitK = splitK(colBlocks, Math.ceilDiv(g.in(), 32), smCount);
            if (splitK > 1) device.memsetD32(y, 0, (long) batch * g.out());
            launch(DECODE, colBlocks, splitK, 32, DECODE_WARPS, src, g.qweight(), g.qzeros(), g.scales(), g.gIdx(),
                    g.bias(), y, batch, g.in(), g.out(), g.bits(), g.zeroWords(), g.zeroPlusOne() ? 1 : 0);
        } else {
            launch(BATCHED, Math.ceilDiv(g.out(), BATCHED_TILE_COLS), Math.ceilDiv(batch, BATCHED_TILE_ROWS),
                    BATCHED_TILE_COLS, 1, src, g.qweight(), g.qzeros(), g.scales(), g.gIdx(), g.bias(), y, batch,
                    g.in(), g.out(), g.bits(), g.zeroWords(), g.zeroPlusOne() ? 1 : 0);
        }
    }

    /**
     * y = x·Wᵀ for a layer in the tiled layout, the one dispatch between its two kernels: from
     * {@value #GEMM_FROM_ROWS} rows the tensor-core GEMM ({@link #gptqMma}, x rounded to fp16 into {@code xh}, scratch
     * of at least 2·rows·in bytes), below that gptq_gemv_tiled in passes of {@value #GEMV_MAX_ROWS} rows. The GEMM
     * is 4-bit only: 8-, 3- and 2-bit tiled layers run the GEMV passes at every row count. With {@code xUp} (non-zero,
     * the up projection's output, same shape as x) the input is SwiGLU(x, xUp); {@code out} says where the columns
     * go and whether they are added; split-K runs through {@code ws} (no memset).
     */
    void gptqTiled(GptqTiledDevice g, long x, long xUp, long xh, GptqOut out, SplitWorkspace ws, int rows) {
        out.check(g.out());
        if (g.bits() == 4 && rows >= GEMM_FROM_ROWS) {
            gptqMma(x, xUp, g.perm(), xh, g.qtiles(), g.zeros16(), g.scales(), g.tileGroup(), g.bias(), out, ws, rows,
                    g.in(), g.out());
            return;
        }
        gemvPasses(g, x, xUp, out, ws, rows);
    }

    /** gptq_gemv_tiled over any number of rows, in passes of {@value #GEMV_MAX_ROWS}. */
    void gemvPasses(GptqTiledDevice g, long x, long xUp, GptqOut out, SplitWorkspace ws, int rows) {
        for (int r0 = 0; r0 < rows; r0 += GEMV_MAX_ROWS) {
            long shift = 4L * r0 * g.in();
            gemv(g, x + shift, xUp == 0 ? 0 : xUp + shift, r0 == 0 ? out : out.skipRows(r0, g.out()), ws,
                    Math.min(GEMV_MAX_ROWS, rows - r0));
        }
    }

    /** gptq_gemv_tiled over any number of rows into y (overwritten), split through {@code ws}. */
    void gemvPasses(GptqTiledDevice g, long x, long y, SplitWorkspace ws, int rows) {
        gemvPasses(g, x, 0, GptqOut.to(y, g.out()), ws, rows);
    }

    /**
     * One gptq_gemv_tiled launch of 1..8 rows: grid (out/64 panels, K slices), the slices as {@link #gemvSplitK}
     * wants them where the workspace holds their partials.
     */
    private void gemv(GptqTiledDevice g, long x, long xUp, GptqOut out, SplitWorkspace ws, int rows) {
        int panels = g.out() / 64;
        int splitK = ws.slices(gemvSplitK(panels, g.in() / 16, smCount), rows, g.out(), panels);
        KernelSpec spec = switch (g.bits()) {
            case 4 -> GEMV;
            case 8 -> GEMV_B8;
            case 2 -> GEMV_B2;
            case 3 -> GEMV_B3;
            default -> throw new IllegalArgumentException("no tiled GEMV for " + g.bits() + "-bit codes");
        };
        launch(spec, panels, splitK, GEMV_THREADS, 1, x, xUp, g.perm(), g.qtiles(), g.zeros16(), g.scales(),
                g.tileGroup(), g.bias(), out.y0(), out.y1(), out.y2(), out.n0(), out.n1(), out.accumulate() ? 1 : 0,
                ws.partials(), ws.counters(), rows, g.in(), g.out());
    }

    /**
     * K slices for gptq_gemv_tiled: at least two blocks per SM over the grid, while every slice keeps at least
     * two k-tiles per warp (8 tiles of 16 inputs).
     */
    static int gemvSplitK(int panels, int kTiles, int smCount) {
        return kSlices(panels, 2 * smCount, kTiles / 8);
    }

    /** Enough K slices to give every SM about two blocks, while each warp keeps at least two 32-input units. */
    static int splitK(int colBlocks, int units, int smCount) {
        return kSlices(colBlocks, 2 * smCount, units / (DECODE_WARPS * 2));
    }

    /**
     * The split-K rule every GPTQ launcher shares: enough slices that {@code blocks} (the grid without split-K)
     * reaches {@code targetBlocks}, but at most {@code maxSlices}, and at least one.
     */
    static int kSlices(int blocks, int targetBlocks, int maxSlices) {
        return Math.max(1, Math.min(Math.ceilDiv(targetBlocks, Math.max(1, blocks)), maxSlices));
    }

    /**
     * y = x·W (+ bias) on the tensor cores for a 4-bit layer in the tiled layout (gptq_mma.cu, docs/gpu-kernels.md):
     * x (m × k fp32, original input order; with {@code xUp} ≠ 0 the SwiGLU silu(x)·xUp of the gate and up outputs)
     * is gathered through {@code perm} (0: identity) and rounded to fp16 into the scratch {@code xh} (m × k fp16,
     * 2·m·k bytes), then the GEMM writes (or with {@code out.accumulate()} adds) each output into {@code out}'s
     * segments. The K split is {@link #mmaGrid}'s, as far as {@code ws} holds its partials and has a counter per
     * output tile ({@link SplitWorkspace#NONE}: unsplit); no memset either way. Meant for m above the GEMV's batch
     * range; correct for any m.
     */
    void gptqMma(long x, long xUp, long perm, long xh, long qtiles, long zeros16, long scales, long tileGroup,
                 long bias, GptqOut out, SplitWorkspace ws, int m, int k, int n) {
        if (m < 1 || k < 16 || k % 16 != 0 || n < 64 || n % 64 != 0) {
            throw new IllegalArgumentException("gptq_mma_gemm needs m >= 1, k a positive multiple of 16 and n of 64: m="
                    + m + " k=" + k + " n=" + n);
        }
        out.check(n);
        Dim3 wanted = mmaGrid(m, k, n, smCount);
        int z = ws.slices(wanted.z(), m, n, wanted.x() * wanted.y());
        if (z > 1 && (ws.partials() & 7) != 0) {
            throw new IllegalArgumentException("gptq_mma_gemm stores partial sums in pairs: partials must be 8-byte "
                    + "aligned, got 0x" + Long.toHexString(ws.partials()));
        }
        launch(MMA_PREPARE_X, Math.ceilDiv(k, 256), m, 256, 1, x, xUp, perm, xh, m, k);
        launch3(MMA_GEMM, new Dim3(wanted.x(), wanted.y(), z), 128, xh, qtiles, zeros16, scales, tileGroup, bias,
                out.y0(), out.y1(), out.y2(), out.n0(), out.n1(), out.accumulate() ? 1 : 0,
                z > 1 ? ws.partials() : 0L, z > 1 ? ws.counters() : 0L, m, k, n);
    }

    /** Rows of y per gptq_mma_gemm block: 16 · (1, 2 or 4 m16 tiles), as the kernel chooses them from m. */
    static int mmaRowsPerBlock(int m) {
        return m <= 16 ? 16 : m <= 32 ? 32 : 64;
    }

    /**
     * gptq_mma_gemm's grid: 256-column blocks × row blocks × split-K, the split chosen so that the grid has about
     * one block per SM while every slice keeps at least 8 k-tiles (128 inputs: two passes of the 4-stage pipeline).
     */
    static Dim3 mmaGrid(int m, int k, int n, int smCount) {
        int colBlocks = Math.ceilDiv(n, 256);
        int rowBlocks = Math.ceilDiv(m, mmaRowsPerBlock(m));
        return new Dim3(colBlocks, rowBlocks, kSlices(colBlocks * rowBlocks, smCount, k / 16 / 8));
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (GpuModule m : modules) {
            try {
                m.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        modules.clear();
        functions.clear();
        if (first != null) throw first;
    }
}
