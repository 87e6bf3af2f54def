package io.paddock.runtime.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The performance model of docs/gpu-kernels.md ("Performance model"): for one kernel launch, from the bytes it must
 * move, its grid, its resources (ptxas: registers per thread, static shared memory) and how many bytes each warp keeps
 * in flight, the time a GPU should take and that as a fraction of the device's copy bandwidth. {@code scripts/gpu-check}
 * prints these predictions beside what it measures ({@link GpuCheckKernels}), so one short GPU run validates or
 * refutes each estimate; {@link #main} prints the table the document holds.
 *
 * <p>The model is a roofline with a latency term, in three bounds and a constant:
 * <ul>
 *   <li><b>DRAM</b>: bytes / copy bandwidth (the device-to-device copy rate, read + write counted, which a streaming
 *       read reaches about as well as a copy does);</li>
 *   <li><b>latency</b> (Little's law): a kernel can only stream as fast as the bytes its resident warps keep in flight
 *       allow: active SMs × resident warps per SM × bytes in flight per warp / DRAM latency;</li>
 *   <li><b>issue</b>: warp instructions / (active SMs × 4 schedulers × clock);</li>
 *   <li>plus a fixed cost per launch (the gap between dependent kernels: ramp-up and tail of the grid).</li>
 * </ul>
 * time = max(DRAM, latency, issue) + fixed. Everything the model assumes about the device is in {@link DeviceSpec}.
 */
final class GpuPerfModel {
    private GpuPerfModel() {}

    /**
     * What the model assumes of a device.
     *
     * @param copyGbps      device-to-device copy bandwidth, GB/s (read + write counted), as gpu-check measures it
     * @param latencyNs     loaded DRAM latency seen by a streaming warp
     * @param launchUs      fixed cost per launch in a stream of dependent launches (ramp-up + tail)
     * @param smemPerSm     shared memory per SM a kernel may use, bytes
     */
    record DeviceSpec(String name, int sms, double clockGhz, double copyGbps, double latencyNs, double launchUs,
            int smemPerSm) {
        /**
         * H100 SXM5 80 GB: 132 SMs, 1.755 GHz boost for the SMs under load, HBM3 3.35 TB/s peak of which a copy
         * reaches ~90 %; ~650 ns loaded latency; ~2 µs between dependent short kernels; 228 KiB shared memory per SM.
         */
        static final DeviceSpec H100_SXM = new DeviceSpec("H100 SXM 80 GB (assumed)", 132, 1.755, 3000, 650, 2.0,
                228 * 1024);

        DeviceSpec withMeasured(int sms, double copyGbps) {
            return new DeviceSpec(name + ", measured copy", sms, clockGhz, copyGbps, latencyNs, launchUs, smemPerSm);
        }
    }

    /**
     * One launch as the model sees it.
     *
     * @param dramBytes            bytes that must come from (or go to) DRAM at least once
     * @param blocks               grid size
     * @param threads              threads per block
     * @param registers            registers per thread (ptxas)
     * @param smem                 shared memory per block (static + dynamic)
     * @param inFlightPerWarp      bytes of DRAM loads one warp keeps outstanding in its main loop
     * @param warpInstructions     warp instructions the whole launch issues (estimated from the kernel's loop body)
     */
    record Launch(String kernel, String shape, int batch, long dramBytes, long blocks, int threads, int registers,
            int smem, int inFlightPerWarp, double warpInstructions) {}

    /** The model's verdict on one launch. */
    record Prediction(Launch launch, double us, double fractionOfCopy, String bound, double residentWarpsPerSm,
            int activeSms) {
        String row() {
            Launch l = launch;
            return String.format(Locale.ROOT, "| `%s` | %s | %d | %.1f | %d | %.0f | %.1f | %.2f | %s |", l.kernel(), l.shape(),
                    l.batch(), l.dramBytes() / 1e6, l.blocks(), residentWarpsPerSm, us, fractionOfCopy, bound);
        }
    }

    /** Resident blocks per SM: by threads (2048), blocks (32), registers (64 Ki, per-warp units of 256) and smem. */
    static int residentBlocks(int threads, int registers, int smem, int smemPerSm) {
        int warps = Math.ceilDiv(threads, 32);
        int byThreads = 2048 / (warps * 32);
        int regsPerWarp = Math.ceilDiv(Math.ceilDiv(Math.max(registers, 1), 8) * 8 * 32, 256) * 256;
        int byRegs = 65536 / (regsPerWarp * warps);
        int bySmem = smem == 0 ? Integer.MAX_VALUE : smemPerSm / (smem + 1024); // 1 KiB reserved per block on sm_8x/9x
        return Math.max(0, Math.min(Math.min(32, byThreads), Math.min(byRegs, bySmem)));
    }

    static Prediction predict(DeviceSpec d, Launch l) {
        int perSm = residentBlocks(l.threads(), l.registers(), l.smem(), d.smemPerSm());
        if (perSm == 0) throw new IllegalArgumentException(l.kernel() + ": a block does not fit on an SM");
        int active = (int) Math.min(d.sms(), l.blocks());
        double blocksPerActiveSm = Math.min(perSm, Math.ceil((double) l.blocks() / active));
        double warps = blocksPerActiveSm * Math.ceilDiv(l.threads(), 32);
        double bytesPerS = d.copyGbps() * 1e9;
        double dramUs = l.dramBytes() / bytesPerS * 1e6;
        double latencyBytesPerS = active * warps * l.inFlightPerWarp() / (d.latencyNs() * 1e-9);
        double latencyUs = l.dramBytes() / latencyBytesPerS * 1e6;
        double issueUs = l.warpInstructions() / (active * 4.0 * d.clockGhz() * 1e9) * 1e6;
        double core = Math.max(dramUs, Math.max(latencyUs, issueUs));
        String bound = core == dramUs ? "DRAM" : core == latencyUs ? "latency" : "issue";
        double us = core + d.launchUs();
        if (d.launchUs() > core) bound = "launch";
        double fraction = l.dramBytes() / (us * 1e-6) / bytesPerS;
        return new Prediction(l, us, fraction, bound, warps, active);
    }

    /** ptxas resources of one kernel on sm_90, as docs/gpu-kernels.md's resource table states them. */
    record Resources(int threads, int registers, int smem) {}

    private static final Pattern RESOURCE_ROW = Pattern.compile(
            "^\\| `(\\w+)` \\| (\\d+) \\| (\\d+) / (\\d+) / (\\d+) / (\\d+) \\| (\\d+) \\|");

    /**
     * The resource table of docs/gpu-kernels.md (block threads, sm_90 registers, static shared memory), which
     * {@code CudaKernelSourceTests} holds to ptxas; empty where the document is not there.
     */
    static Map<String, Resources> documentedResources(Path doc) {
        Map<String, Resources> m = new LinkedHashMap<>();
        if (!Files.isRegularFile(doc)) return m;
        try {
            for (String line : Files.readAllLines(doc)) {
                Matcher r = RESOURCE_ROW.matcher(line);
                if (r.find()) {
                    m.put(r.group(1), new Resources(Integer.parseInt(r.group(2)), Integer.parseInt(r.group(6)),
                            Integer.parseInt(r.group(7))));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    static final Map<String, Resources> RESOURCES = documentedResources(Path.of("docs/gpu-kernels.md"));

    /** Registers per thread of {@code kernel} on sm_90 from the document, else {@code fallback}. */
    static int registers(String kernel, int fallback) {
        Resources r = RESOURCES.get(kernel);
        return r == null ? fallback : r.registers();
    }

    // ---- the kernels, as launched by CudaKernels ----

    /** LLaMA shapes the document tabulates. */
    record Model(String name, int hidden, int intermediate, int layers, int heads, int kvHeads, int vocab) {
        static final Model LLAMA_7B = new Model("7B", 4096, 11008, 32, 32, 32, 32000);
        static final Model LLAMA_13B = new Model("13B", 5120, 13824, 40, 40, 40, 32000);
        static final Model LLAMA_65B = new Model("65B", 8192, 22016, 80, 64, 64, 32000);

        int headDim() {
            return hidden / heads;
        }
    }

    /**
     * Today's {@code gptq_matmul_decode} (batch ≤ 4): block (32, 8), a lane per output column, one 4-byte qweight
     * load per lane per 8 inputs (4-bit), each warp a K slice of 32-input units; split-K from the SM count.
     */
    static Launch gptqDecode(int in, int out, int batch, int groupSize, int sms) {
        long bytes = gptqBytes(in, out, groupSize, batch) + (long) in * 4;
        int colBlocks = Math.ceilDiv(out, 32);
        int split = CudaKernels.splitK(colBlocks, Math.ceilDiv(in, 32), sms);
        // per warp per 32-input unit: 4 loads of 4 B per lane; ~ (4 ld + 32 x (shift, and, cvt, sub, mul) + 32 x batch
        // (ld x, fma)) instructions per unit
        double perUnit = 4 + 32 * 5 + 32.0 * batch * 2;
        double warpInstr = (double) colBlocks * Math.ceilDiv(in, 32) * perUnit;
        return new Launch("gptq_matmul_decode", in + "→" + out, batch, bytes, (long) colBlocks * split, 256, 128, 16384,
                4 * 4 * 32, warpInstr);
    }

    /** Weight-side bytes of a 4-bit GPTQ layer plus fp32 activations in and out. */
    static long gptqBytes(int in, int out, int groupSize, int batch) {
        long groups = groupSize <= 0 ? 1 : Math.ceilDiv(in, groupSize);
        return (long) in * out / 2 + groups * out * 2L * 2 + (long) batch * (in + out) * 4;
    }

    /**
     * {@code dense_matmul} with fp16 weights (the lm_head) on its 16-byte-load path: a warp per output row, each lane
     * two 16-byte weight loads in flight (1 KiB per warp); per 8 weights a load, 8 converts and, per row, two float4
     * loads of x and 8 FFMA.
     */
    static Launch denseFp16(int in, int out, int batch) {
        long bytes = (long) in * out * 2 + (long) batch * (in + out) * 4;
        double warpInstr = (double) out * Math.ceilDiv(in / 8, 32) * (9 + 10.0 * Math.min(batch, 4))
                * Math.ceilDiv(batch, 4);
        return new Launch("dense_matmul", in + "→" + out, batch, bytes, (long) Math.ceilDiv(out, 8) * Math.ceilDiv(batch, 4),
                256, registers("dense_matmul", 64), 0, 2 * 512, warpInstr);
    }

    /**
     * {@code gptq_gemv_tiled} (rows 1..8) on the tiled 4-bit layout: grid (out/64, splitK), block 4 warps, each warp
     * keeps {@code GEMV_UNROLL} = 4 tile loads of 512 bytes (16 per lane) in flight. Per tile and warp: the load, 16
     * half2 dequantizations (shift + lop3, sub, mul, two widening converts: ~6.5 instructions each) and, per row, 32
     * FFMA plus the activations from shared memory (2 loads, 4 converts); x is staged once per block (~10 instructions
     * per pair of inputs and row).
     */
    static Launch gemvTiled(int in, int out, int batch, int groupSize, int splitK, int registers, int smem) {
        long tiles = (long) (in / 16) * (out / 64);
        long groups = groupSize <= 0 ? 1 : Math.ceilDiv(in, groupSize);
        long bytes = (long) in * out / 2 + groups * out * 4L + (in / 16) * 4L + in * 4L + (long) batch * (in + out) * 4;
        double perTile = 1 + 16 * 6.5 + batch * (32 + 6);
        double staging = (double) (out / 64) * batch * (in / 2) * 10 / 32;
        return new Launch("gptq_gemv_tiled", in + "→" + out, batch, bytes, (long) (out / 64) * splitK, 128, registers,
                smem, 4 * 512, tiles * perTile + staging);
    }

    /**
     * {@code paged_attention_decode_f16}: grid (rows, kvHeads, splits), block 128; a block stages 16 positions of K and
     * V (fp16, 4-byte loads: headDim/2 words per position and tensor, all independent) and runs every query head of
     * its GQA group over them in fp32.
     */
    static Launch attentionDecodeF16(int rows, int heads, int kvHeads, int headDim, int context, int partSize) {
        int splits = Math.ceilDiv(context, partSize);
        long kvBytes = 2L * rows * context * kvHeads * headDim * 2;
        long bytes = kvBytes + (long) rows * heads * headDim * 8;
        int group = heads / kvHeads;
        // per position and kv head: 2·headDim/2 word loads over 128 threads, group·headDim FMAs for the scores and
        // as many for the output (+ 2 converts per pair), the softmax per query
        double perPosition = (2.0 * headDim / 2 + group * headDim * 2 * 1.5 + group * 8) / 32;
        double warpInstr = (double) rows * kvHeads * context * perPosition;
        int inFlight = Math.min(16 * headDim * 2 * 2 / 4, 32 * 16 * 4); // a tile's words per warp, ≤ 16 loads per lane
        return new Launch("paged_attention_decode_f16", "context " + context + ", " + heads + "×" + headDim, rows, bytes,
                (long) rows * kvHeads * splits, 128, registers("paged_attention_decode_f16", 121),
                smem("paged_attention_decode_f16", 34176), inFlight, warpInstr);
    }

    /** An elementwise or row-wise kernel (norms, RoPE, SwiGLU, residual add, KV store): bytes in and out, 256 threads. */
    static Launch elementwise(String kernel, long bytes, int batch) {
        long threads = Math.max(1, bytes / 8);
        return new Launch(kernel, "", batch, bytes, Math.ceilDiv(threads, 256), 256, 32, 0, 32 * 8, threads / 32.0 * 12);
    }

    /**
     * Split-K of the tiled GEMV for an {@code in → out} layer: {@code CudaKernels}' own choice (≥ 2 blocks per SM,
     * each slice ≥ 8 k-tiles).
     */
    static int gemvSplitK(int in, int out, int sms) {
        return CudaKernels.gemvSplitK(out / 64, in / 16, sms);
    }

    /**
     * {@code gptq_mma_gemm} (tensor cores): grid (N/256, ceil(M/16·mt), splitK), block 4 warps, warp = one 64-column
     * panel, mt = 1 (M ≤ 16), 2 (≤ 32), else 4 m-tiles; a 4-stage cp.async pipeline of 2 k-tiles (3 stages = 3 KiB per
     * warp in flight). Per k-tile and warp: the 16-byte copy, 16 half2 dequantizations (shift, lop3, sub, mul: 64),
     * one ldmatrix.x4 and 8 mma.sync per m-tile, ~4 for scales on group changes. Preceded by
     * {@code gptq_mma_prepare_x} (x gathered through perm, rounded to fp16; one more launch).
     */
    static Launch gemmMma(int in, int out, int batch, int groupSize, int sms, int registers, int smem) {
        int mt = CudaKernels.mmaRowsPerBlock(batch) / 16;
        GpuDevice.Dim3 grid = CudaKernels.mmaGrid(batch, in, out, sms);
        long mBlocks = grid.y();
        long tiles = (long) (in / 16) * (out / 64);
        long groups = groupSize <= 0 ? 1 : Math.ceilDiv(in, groupSize);
        long bytes = (long) in * out / 2 + groups * out * 4L + (in / 16) * 4L + (long) batch * in * 2 + (long) batch * out * 4;
        double perTile = 1 + 64 + 9.0 * mt + 4;
        return new Launch("gptq_mma_gemm", in + "→" + out, batch, bytes, (long) grid.x() * grid.y() * grid.z(), 128,
                registers, smem, 3 * 2 * 512, tiles * mBlocks * perTile);
    }

    /** One decode step's launches and their predicted total. */
    record Step(Model model, int batch, int context, boolean graphs, List<Prediction> launches, long bytes, double us) {
        double tokensPerSecond() {
            return batch / (us * 1e-6);
        }

        double fractionOfCopy(DeviceSpec d) {
            return bytes / (us * 1e-6) / (d.copyGbps() * 1e9);
        }
    }

    /**
     * The launches of one 4-bit linear at {@code batch} rows: the tiled GEMV in passes of 8 rows below
     * {@code gemmFromRows}, else the x pre-pass and the tensor-core GEMM; a split output is zeroed first (a memset).
     */
    static List<Launch> linear(int in, int out, int batch, int sms, int gemmFromRows) {
        List<Launch> ls = new ArrayList<>();
        if (batch >= gemmFromRows) {
            ls.add(elementwise("gptq_mma_prepare_x", (long) batch * in * 6, batch));
            if (CudaKernels.mmaGrid(batch, in, out, sms).z() > 1) ls.add(elementwise("memset y", (long) batch * out * 4, batch));
            ls.add(gemmMma(in, out, batch, 128, sms, registers("gptq_mma_gemm", 218), smem("gptq_mma_gemm", 36864)));
            return ls;
        }
        for (int done = 0; done < batch; done += 8) {
            int rows = Math.min(8, batch - done);
            int split = gemvSplitK(in, out, sms);
            if (split > 1) ls.add(elementwise("memset y", (long) rows * out * 4, rows));
            ls.add(gemvTiled(in, out, rows, 128, split, registers("gptq_gemv_tiled", 128), smem("gptq_gemv_tiled", 24576)));
        }
        return ls;
    }

    /** Static shared memory of {@code kernel} from the document, else {@code fallback}. */
    static int smem(String kernel, int fallback) {
        Resources r = RESOURCES.get(kernel);
        return r == null ? fallback : r.smem();
    }

    /**
     * A whole decode step of {@code batch} single-token rows at {@code context} positions: per layer the fused
     * add + RMSNorm, q/k/v, RoPE ×2, the KV store, attention (+ the partition reduce beyond one partition), o,
     * add + RMSNorm, gate/up, SwiGLU, down, then the final norm and the fp16 lm_head. With {@code graphs} the fixed
     * cost per launch is halved (a replayed graph's dependent kernels start ~1 µs apart instead of ~2).
     */
    static Step decodeStep(DeviceSpec dev, Model m, int batch, int context, boolean graphs, int gemmFromRows) {
        DeviceSpec d = graphs ? new DeviceSpec(dev.name(), dev.sms(), dev.clockGhz(), dev.copyGbps(), dev.latencyNs(),
                dev.launchUs() / 2, dev.smemPerSm()) : dev;
        List<Prediction> ps = new ArrayList<>();
        int h = m.hidden(), ff = m.intermediate(), kvDim = m.kvHeads() * m.headDim();
        int[][] linears = {{h, h}, {h, kvDim}, {h, kvDim}, {h, h}, {h, ff}, {h, ff}, {ff, h}};
        long act = (long) batch * h * 4;
        for (int layer = 0; layer < m.layers(); layer++) {
            ps.add(predict(d, elementwise("add_rmsnorm_f32", 3 * act, batch)));
            for (int i = 0; i < linears.length; i++) {
                for (Launch l : linear(linears[i][0], linears[i][1], batch, d.sms(), gemmFromRows)) ps.add(predict(d, l));
                if (i == 2) {
                    ps.add(predict(d, elementwise("rope q", 2 * act, batch)));
                    ps.add(predict(d, elementwise("rope k", 2L * batch * kvDim * 4, batch)));
                    ps.add(predict(d, elementwise("kv_store_f16", (long) batch * kvDim * 2 * 6, batch)));
                    ps.add(predict(d, attentionDecodeF16(batch, m.heads(), m.kvHeads(), m.headDim(), context,
                            ATTENTION_PARTITION)));
                    if (context > ATTENTION_PARTITION) {
                        ps.add(predict(d, elementwise("paged_attention_reduce", 3 * act, batch)));
                    }
                }
                if (i == 3) ps.add(predict(d, elementwise("add_rmsnorm_f32", 3 * act, batch)));
                if (i == 5) ps.add(predict(d, elementwise("swiglu_f32", 3L * batch * ff * 4, batch)));
            }
        }
        ps.add(predict(d, elementwise("rmsnorm_f32", 2 * act, batch)));
        ps.add(predict(d, denseFp16(h, m.vocab(), batch)));
        long bytes = 0;
        double us = 0;
        for (Prediction p : ps) {
            bytes += p.launch().dramBytes();
            us += p.us();
        }
        return new Step(m, batch, context, graphs, List.copyOf(ps), bytes, us);
    }

    /** Positions per flash-decoding partition for LLaMA-1's 2048-token context: the runtime's choice. */
    static final int ATTENTION_PARTITION = GpuFootprint.attentionPartition(2048);

    static final List<Model> MODELS = List.of(Model.LLAMA_7B, Model.LLAMA_13B, Model.LLAMA_65B);

    /** Every kernel of a decode step at the document's shapes: the three GPTQ shapes, attention at 2048, lm_head. */
    static List<Prediction> table(DeviceSpec d) {
        List<Prediction> rows = new ArrayList<>();
        for (Model m : MODELS) {
            for (int batch : new int[] {1, 8, 32}) {
                for (int[] io : new int[][] {{m.hidden(), m.hidden()}, {m.hidden(), m.intermediate()},
                        {m.intermediate(), m.hidden()}}) {
                    if (batch <= 8) {
                        rows.add(predict(d, gemvTiled(io[0], io[1], batch, 128, gemvSplitK(io[0], io[1], d.sms()),
                                registers("gptq_gemv_tiled", 128), smem("gptq_gemv_tiled", 24576))));
                    }
                    rows.add(predict(d, gemmMma(io[0], io[1], batch, 128, d.sms(), registers("gptq_mma_gemm", 218),
                            smem("gptq_mma_gemm", 36864))));
                }
                rows.add(predict(d, attentionDecodeF16(batch, m.heads(), m.kvHeads(), m.headDim(), 2048,
                        ATTENTION_PARTITION)));
            }
            rows.add(predict(d, denseFp16(m.hidden(), m.vocab(), 1)));
        }
        return rows;
    }

    /** Prints the document's tables for the assumed H100 ({@link #tables}). */
    public static void main(String[] args) {
        System.out.print(tables(DeviceSpec.H100_SXM));
    }

    /**
     * The tables docs/gpu-kernels.md holds ("Performance model"), for device {@code d}: every kernel of a decode step at
     * the three LLaMA shapes and batches 1/8/32, the GEMV against the GEMM by rows, and whole decode steps.
     */
    static String tables(DeviceSpec d) {
        StringBuilder out = new StringBuilder();
        out.append("| kernel | shape | batch | MB | blocks | warps/SM | µs | × copy | bound |").append('\n');
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---|").append('\n');
        for (Prediction p : table(d)) out.append(p.row()).append('\n');
        out.append('\n');
        out.append("GEMV against GEMM (with its x pre-pass launch), 7B 4096→4096, by rows:").append('\n');
        out.append('\n');
        out.append("| rows | GEMV µs | GEMM µs |").append('\n');
        out.append("|---:|---:|---:|").append('\n');
        for (int b : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 16}) {
            double gemv = 0, gemm = 0;
            for (Launch l : linear(4096, 4096, b, d.sms(), Integer.MAX_VALUE)) gemv += predict(d, l).us();
            for (Launch l : linear(4096, 4096, b, d.sms(), 1)) gemm += predict(d, l).us();
            out.append(String.format(Locale.ROOT, "| %d | %.1f | %.1f |%n", b, gemv, gemm));
        }
        out.append('\n');
        out.append("One layer of the 7B decode step at batch 1, context 512, graphed:").append('\n');
        out.append('\n');
        out.append("| kernel | shape | batch | MB | blocks | warps/SM | µs | × copy | bound |").append('\n');
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---|").append('\n');
        Step one = decodeStep(d, Model.LLAMA_7B, 1, 512, true, CudaKernels.GEMM_FROM_ROWS);
        int perLayer = (one.launches().size() - 2) / Model.LLAMA_7B.layers();
        for (Prediction p : one.launches().subList(0, perLayer)) out.append(p.row()).append('\n');
        out.append('\n');
        out.append("| model | batch | context | graphs | launches | MB per step | µs per step | tok/s | × copy |").append('\n');
        out.append("|---|---:|---:|---|---:|---:|---:|---:|---:|").append('\n');
        for (Model m : MODELS) {
            for (int batch : new int[] {1, 8, 32}) {
                for (boolean graphs : new boolean[] {false, true}) {
                    Step st = decodeStep(d, m, batch, 512, graphs, CudaKernels.GEMM_FROM_ROWS);
                    out.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %d | %.0f | %.0f | %.0f | %.2f |%n", m.name(), batch,
                            st.context(), graphs ? "yes" : "no", st.launches().size(), st.bytes() / 1e6, st.us(),
                            st.tokensPerSecond(), st.fractionOfCopy(d)));
                }
            }
        }
        return out.toString();
    }
}
