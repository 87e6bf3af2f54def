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
     * What a tiled GPTQ launch does around {@code y = x·W} in the fused decode step: {@code accumulate} adds into y
     * (the o and down projections add into the residual x: y is read as well as written), {@code swiglu} forms its
     * input as silu(gate)·up while staging it (the down projection: gate and up are read, rows·in·4 bytes each, instead
     * of one x). The kernel table and gpu-check's kernel figures use {@link #PLAIN}.
     */
    record Io(boolean accumulate, boolean swiglu) {
        static final Io PLAIN = new Io(false, false);
        static final Io ACCUMULATE = new Io(true, false);
        static final Io SWIGLU_ACCUMULATE = new Io(true, true);

        /** Bytes of x and y at {@code rows} rows. */
        long activationBytes(int in, int out, int rows) {
            return (long) rows * in * 4 * (swiglu ? 2 : 1) + (long) rows * out * 4 * (accumulate ? 2 : 1);
        }

        String suffix() {
            return (swiglu ? ", x = silu(g)·u" : "") + (accumulate ? ", y +=" : "");
        }
    }

    /**
     * Bytes of split-K partial sums: each of {@code slices} slices writes its fp32 rows × out partials and the last
     * slice of each tile reads them all back to reduce them in slice order (no memset, no atomics into y); counted
     * as DRAM bytes although most stay in L2. None when unsplit.
     */
    static long partialBytes(int slices, int rows, int out) {
        return slices > 1 ? 2L * slices * rows * out * 4 : 0;
    }

    /** The last slice's in-order reduction: per output element and slice a load and an add (warp instructions). */
    static double reduceInstructions(int slices, int rows, int out) {
        return slices > 1 ? (double) rows * out * (2.0 * slices + 2) / 32 : 0;
    }

    /**
     * {@code gptq_gemv_tiled} (rows 1..8) on the tiled 4-bit layout: grid (out/64, splitK), block 4 warps, each warp
     * keeps {@code GEMV_UNROLL} = 4 tile loads of 512 bytes (16 per lane) in flight. Per tile and warp: the load, 16
     * half2 dequantizations (shift + lop3, sub, mul, two widening converts: ~6.5 instructions each) and, per row, 32
     * FFMA plus the activations from shared memory (2 loads, 4 converts); x is staged once per block (~10 instructions
     * per pair of inputs and row). A split launch writes its partials and its last slice reduces them
     * ({@link #partialBytes}).
     */
    static Launch gemvTiled(int in, int out, int batch, int groupSize, int splitK, int registers, int smem) {
        return gemvTiled(in, out, batch, groupSize, splitK, registers, smem, Io.PLAIN);
    }

    /**
     * {@link #gemvTiled(int, int, int, int, int, int, int)} with the decode step's output and input options: with
     * SwiGLU the staging also loads up and forms silu(gate)·up (one more load, ex2, add, rcp and two multiplies per
     * input: ~22 instructions per pair instead of 10).
     */
    static Launch gemvTiled(int in, int out, int batch, int groupSize, int splitK, int registers, int smem, Io io) {
        long tiles = (long) (in / 16) * (out / 64);
        long groups = groupSize <= 0 ? 1 : Math.ceilDiv(in, groupSize);
        long bytes = (long) in * out / 2 + groups * out * 4L + (in / 16) * 4L + in * 4L
                + io.activationBytes(in, out, batch) + partialBytes(splitK, batch, out);
        double perTile = 1 + 16 * 6.5 + batch * (32 + 6);
        double staging = (double) (out / 64) * batch * (in / 2) * (io.swiglu() ? 22 : 10) / 32;
        return new Launch("gptq_gemv_tiled", in + "→" + out + io.suffix(), batch, bytes, (long) (out / 64) * splitK,
                128, registers, smem, 4 * 512, tiles * perTile + staging + reduceInstructions(splitK, batch, out));
    }

    /**
     * {@code paged_attention_decode_f16}: grid (rows, kvHeads, splits), block 128; a block stages 16 positions of K and
     * V (fp16, 4-byte loads: headDim/2 words per position and tensor, all independent) and runs every query head of
     * its GQA group over them in fp32. Beyond one partition each writes its partial output, max and sum, and the
     * row's last partition reads them all back to combine them (counted as DRAM bytes; they are likely L2 hits).
     */
    static Launch attentionDecodeF16(int rows, int heads, int kvHeads, int headDim, int context, int partSize) {
        int splits = Math.ceilDiv(context, partSize);
        long kvBytes = 2L * rows * context * kvHeads * headDim * 2;
        long partials = splits > 1 ? 2L * rows * heads * splits * (headDim + 2) * 4 : 0;
        long bytes = kvBytes + (long) rows * heads * headDim * 8 + partials;
        int group = heads / kvHeads;
        // per position and kv head: 2·headDim/2 word loads over 128 threads, group·headDim FMAs for the scores and
        // as many for the output (+ 2 converts per pair), the softmax per query
        double perPosition = (2.0 * headDim / 2 + group * headDim * 2 * 1.5 + group * 8) / 32;
        double warpInstr = (double) rows * kvHeads * context * perPosition;
        int inFlight = Math.min(16 * headDim * 2 * 2 / 4, 32 * 16 * 4); // a tile's words per warp, ≤ 16 loads per lane
        return new Launch("paged_attention_decode_f16", "context " + context + ", " + heads + "×" + headDim, rows, bytes,
                (long) rows * kvHeads * splits, 128, registers("paged_attention_decode_f16", 121),
                smem("paged_attention_decode_f16", 34180), inFlight, warpInstr);
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
        return gemmMma(in, out, batch, groupSize, sms, registers, smem, Io.PLAIN);
    }

    /**
     * {@link #gemmMma(int, int, int, int, int, int, int)} with the decode step's output option (SwiGLU is the
     * pre-pass's, {@link #prepareX}); a split launch writes partials and reduces them ({@link #partialBytes}).
     */
    static Launch gemmMma(int in, int out, int batch, int groupSize, int sms, int registers, int smem, Io io) {
        int mt = CudaKernels.mmaRowsPerBlock(batch) / 16;
        GpuDevice.Dim3 grid = CudaKernels.mmaGrid(batch, in, out, sms);
        long mBlocks = grid.y();
        long tiles = (long) (in / 16) * (out / 64);
        long groups = groupSize <= 0 ? 1 : Math.ceilDiv(in, groupSize);
        long bytes = (long) in * out / 2 + groups * out * 4L + (in / 16) * 4L + (long) batch * in * 2
                + (long) batch * out * 4 * (io.accumulate() ? 2 : 1) + partialBytes(grid.z(), batch, out);
        double perTile = 1 + 64 + 9.0 * mt + 4;
        return new Launch("gptq_mma_gemm", in + "→" + out + (io.accumulate() ? ", y +=" : ""), batch, bytes,
                (long) grid.x() * grid.y() * grid.z(), 128, registers, smem, 3 * 2 * 512,
                tiles * mBlocks * perTile + reduceInstructions(grid.z(), batch, out));
    }

    /**
     * {@code gptq_mma_prepare_x}: x (fp32) gathered through perm and rounded to fp16, rows·in·(4 + 2) bytes; with
     * SwiGLU it reads gate and up and writes silu(gate)·up, rows·in·(8 + 2).
     */
    static Launch prepareX(int in, int batch, boolean swiglu) {
        return elementwise("gptq_mma_prepare_x", (long) batch * in * (swiglu ? 10 : 6), batch);
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
     * The launches of one 4-bit linear at {@code batch} rows as the fused decode step runs it: the tiled GEMV in
     * passes of 8 rows below {@code gemmFromRows}, else the x pre-pass and the tensor-core GEMM; no memset (split-K
     * slices reduce their partials in the kernel).
     */
    static List<Launch> linear(int in, int out, int batch, int sms, int gemmFromRows) {
        return linear(in, out, batch, sms, gemmFromRows, Io.PLAIN);
    }

    /** {@link #linear(int, int, int, int, int)} with the step's output and input options. */
    static List<Launch> linear(int in, int out, int batch, int sms, int gemmFromRows, Io io) {
        List<Launch> ls = new ArrayList<>();
        if (batch >= gemmFromRows) {
            ls.add(prepareX(in, batch, io.swiglu()));
            ls.add(gemmMma(in, out, batch, 128, sms, registers("gptq_mma_gemm", 218), smem("gptq_mma_gemm", 36864),
                    io));
            return ls;
        }
        for (int done = 0; done < batch; done += CudaKernels.GEMV_MAX_ROWS) {
            int rows = Math.min(CudaKernels.GEMV_MAX_ROWS, batch - done);
            ls.add(gemvTiled(in, out, rows, 128, gemvSplitK(in, out, sms), registers("gptq_gemv_tiled", 128),
                    smem("gptq_gemv_tiled", 24576), io));
        }
        return ls;
    }

    /** Predicted time of a whole call: the sum of its launches on {@code d}. */
    static double callUs(DeviceSpec d, List<Launch> launches) {
        double us = 0;
        for (Launch l : launches) us += predict(d, l).us();
        return us;
    }

    /**
     * The fewest rows at which the model has the whole GEMM call (x pre-pass + GEMM) faster than the GEMV passes for
     * an {@code in → out} layer (the model's {@code GEMM_FROM_ROWS}); 0 if none up to 64.
     */
    static int gemmCrossoverRows(DeviceSpec d, int in, int out, Io io) {
        for (int rows = 1; rows <= 64; rows++) {
            if (callUs(d, linear(in, out, rows, d.sms(), 1, io))
                    < callUs(d, linear(in, out, rows, d.sms(), Integer.MAX_VALUE, io))) {
                return rows;
            }
        }
        return 0;
    }

    /** One GPTQ projection of the fused decode step: its shape and what it does around y = x·W. */
    record StepLinear(String label, int in, int out, Io io) {}

    /**
     * The four GPTQ launches of a fused decode-step layer, in order: q/k/v (out = q + 2·kv), o accumulating into the
     * residual, gate/up (out = 2·ff), down with SwiGLU in its staging accumulating into the residual.
     */
    static List<StepLinear> stepLinears(Model m) {
        int h = m.hidden(), ff = m.intermediate(), qDim = m.heads() * m.headDim(), kvDim = m.kvHeads() * m.headDim();
        return List.of(new StepLinear("q/k/v " + h + "→" + (qDim + 2 * kvDim), h, qDim + 2 * kvDim, Io.PLAIN),
                new StepLinear("o " + qDim + "→" + h + " y +=", qDim, h, Io.ACCUMULATE),
                new StepLinear("gate/up " + h + "→" + 2 * ff, h, 2 * ff, Io.PLAIN),
                new StepLinear("down " + ff + "→" + h + " SwiGLU, y +=", ff, h, Io.SWIGLU_ACCUMULATE));
    }

    /** Static shared memory of {@code kernel} from the document, else {@code fallback}. */
    static int smem(String kernel, int fallback) {
        Resources r = RESOURCES.get(kernel);
        return r == null ? fallback : r.smem();
    }

    /**
     * A whole decode step of {@code batch} single-token rows at {@code context} positions, as the runtime runs a layer
     * whose projections are all in the tiled layout: per layer {@code rmsnorm_f32}, one fused q/k/v projection
     * (out = q + 2·kv), {@code rope_kv_store_f16} (RoPE of q and k and the fp16 KV store), attention (+ the partition
     * reduce beyond one partition), o accumulating into the residual, {@code rmsnorm_f32}, one fused gate/up
     * projection (out = 2·ff), down with SwiGLU in its x staging accumulating into the residual; then the final norm
     * and the fp16 lm_head. No memsets. With {@code graphs} the fixed cost per launch is halved (a replayed graph's
     * dependent kernels start ~1 µs apart instead of ~2).
     */
    static Step decodeStep(DeviceSpec dev, Model m, int batch, int context, boolean graphs, int gemmFromRows) {
        DeviceSpec d = graphs ? new DeviceSpec(dev.name(), dev.sms(), dev.clockGhz(), dev.copyGbps(), dev.latencyNs(),
                dev.launchUs() / 2, dev.smemPerSm()) : dev;
        List<Prediction> ps = new ArrayList<>();
        int h = m.hidden(), qDim = m.heads() * m.headDim(), kvDim = m.kvHeads() * m.headDim();
        long act = (long) batch * h * 4;
        List<StepLinear> sl = stepLinears(m);
        for (int layer = 0; layer < m.layers(); layer++) {
            ps.add(predict(d, elementwise("rmsnorm_f32", 2 * act, batch)));
            addLinear(ps, d, sl.get(0), batch, gemmFromRows);                              // q/k/v
            ps.add(predict(d, ropeKvStoreF16(batch, m.heads(), m.headDim(), qDim, kvDim)));
            ps.add(predict(d, attentionDecodeF16(batch, m.heads(), m.kvHeads(), m.headDim(), context,
                    ATTENTION_PARTITION)));
            addLinear(ps, d, sl.get(1), batch, gemmFromRows);                              // o, y += into x
            ps.add(predict(d, elementwise("rmsnorm_f32", 2 * act, batch)));
            addLinear(ps, d, sl.get(2), batch, gemmFromRows);                              // gate/up
            addLinear(ps, d, sl.get(3), batch, gemmFromRows);                              // down, SwiGLU, y += into x
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

    private static void addLinear(List<Prediction> ps, DeviceSpec d, StepLinear p, int batch, int gemmFromRows) {
        for (Launch l : linear(p.in(), p.out(), batch, d.sms(), gemmFromRows, p.io())) ps.add(predict(d, l));
    }

    /**
     * {@code rope_kv_store_f16}: grid (rows, heads), a thread per rotated pair (block headDim/2, at most 128, as
     * {@code rope_rotate_half_f32}); reads q, k and v (fp32), writes q back rotated and k, v into the fp16 pool:
     * rows·(q + 2·kv)·4 + rows·q·4 + rows·2·kv·2 bytes.
     */
    static Launch ropeKvStoreF16(int rows, int heads, int headDim, int qDim, int kvDim) {
        long bytes = (long) rows * (qDim + 2L * kvDim) * 4 + (long) rows * qDim * 4 + (long) rows * 2 * kvDim * 2;
        int threads = Math.min(headDim / 2, 128);
        // Per pair of q (and of k for a kv head): 2 loads, sincos or 2 table loads, 4 FMA, 2 stores; of v: load,
        // convert, store. In flight per lane: the q, k and v pairs and the cos/sin pair, four independent 8-byte loads.
        double warpInstr = (double) rows * (qDim + 2.0 * kvDim) / 2 * 12 / 32;
        return new Launch("rope_kv_store_f16", "", rows, bytes, (long) rows * heads, threads, 32, 0, 32 * 4 * 8,
                warpInstr);
    }

    /** Positions per flash-decoding partition for LLaMA-1's 2048-token context: the runtime's choice. */
    static final int ATTENTION_PARTITION = GpuFootprint.attentionPartition(2048);

    static final List<Model> MODELS = List.of(Model.LLAMA_7B, Model.LLAMA_13B, Model.LLAMA_65B);

    /**
     * The GPTQ shapes the document tabulates for {@code m}: the separate projections (q/k/v/o, gate/up, down) and the
     * fused ones the decode step launches (q/k/v: out = q + 2·kv; gate/up: out = 2·ff), each {in, out, fused?}.
     */
    static int[][] gptqShapes(Model m) {
        int h = m.hidden(), ff = m.intermediate(), qkv = (m.heads() + 2 * m.kvHeads()) * m.headDim();
        return new int[][] {{h, h, 0}, {h, qkv, 1}, {h, ff, 0}, {h, 2 * ff, 2}, {ff, h, 0}};
    }

    private static final String[] FUSED = {"", " (q/k/v)", " (gate/up)"};

    private static Launch labelled(Launch l, String suffix) {
        return suffix.isEmpty() ? l : new Launch(l.kernel(), l.shape() + suffix, l.batch(), l.dramBytes(), l.blocks(),
                l.threads(), l.registers(), l.smem(), l.inFlightPerWarp(), l.warpInstructions());
    }

    /**
     * Every kernel of a decode step at the document's shapes: the GPTQ shapes ({@link #gptqShapes}, plain output),
     * attention at 2048, lm_head.
     */
    static List<Prediction> table(DeviceSpec d) {
        List<Prediction> rows = new ArrayList<>();
        for (Model m : MODELS) {
            for (int batch : new int[] {1, 8, 32}) {
                for (int[] io : gptqShapes(m)) {
                    String label = FUSED[io[2]];
                    if (batch <= 8) {
                        rows.add(predict(d, labelled(gemvTiled(io[0], io[1], batch, 128,
                                gemvSplitK(io[0], io[1], d.sms()), registers("gptq_gemv_tiled", 128),
                                smem("gptq_gemv_tiled", 24576)), label)));
                    }
                    rows.add(predict(d, labelled(gemmMma(io[0], io[1], batch, 128, d.sms(),
                            registers("gptq_mma_gemm", 218), smem("gptq_mma_gemm", 36864)), label)));
                }
                rows.add(predict(d, attentionDecodeF16(batch, m.heads(), m.kvHeads(), m.headDim(), 2048,
                        ATTENTION_PARTITION)));
            }
            rows.add(predict(d, denseFp16(m.hidden(), m.vocab(), 1)));
        }
        return rows;
    }

    /**
     * The fastest an fp16 GEMM of {@code in → out} could be: its 2-byte weights read once at the copy rate, plus,
     * with {@code oneLaunch}, the model's fixed cost of the one launch any real fp16 GEMM (a cuBLAS call) pays.
     */
    static double fp16GemmUs(DeviceSpec d, long in, long out, boolean oneLaunch) {
        return 2.0 * in * out / (d.copyGbps() * 1e9) * 1e6 + (oneLaunch ? d.launchUs() : 0);
    }

    /** One row of the 16-row GEMM target: the quantized kernel and whole call against both fp16 references. */
    record Gemm16(Model model, int in, int out, String label, double kernelUs, double callUs, double floorUs,
            double oneLaunchUs) {
        String row() {
            return String.format(Locale.ROOT,
                    "| %s | %d→%d%s | %.1f | %.1f | %.1f | %.1f | %.1f× | %.1f× | %.1f× | %.1f× |", model.name(), in,
                    out, label, kernelUs, callUs, floorUs, oneLaunchUs, floorUs / kernelUs, floorUs / callUs,
                    oneLaunchUs / kernelUs, oneLaunchUs / callUs);
        }
    }

    /**
     * The 16-row GEMM target per shape: {@code gptq_mma_gemm} alone and the whole call (x pre-pass + GEMM, no memset)
     * on {@code d}, against the fp16 floor (weights at the copy rate, no launch) and an ideal one-launch fp16 GEMM.
     */
    static List<Gemm16> gemm16(DeviceSpec d) {
        List<Gemm16> rows = new ArrayList<>();
        for (Model m : MODELS) {
            for (int[] io : gptqShapes(m)) {
                double kernel = predict(d, gemmMma(io[0], io[1], 16, 128, d.sms(), registers("gptq_mma_gemm", 218),
                        smem("gptq_mma_gemm", 36864))).us();
                double call = callUs(d, linear(io[0], io[1], 16, d.sms(), 1));
                rows.add(new Gemm16(m, io[0], io[1], FUSED[io[2]], kernel, call, fp16GemmUs(d, io[0], io[1], false),
                        fp16GemmUs(d, io[0], io[1], true)));
            }
        }
        return rows;
    }

    /** Prints the document's tables for the assumed H100 ({@link #tables}). */
    public static void main(String[] args) {
        System.out.print(tables(DeviceSpec.H100_SXM));
    }

    /**
     * The tables docs/gpu-kernels.md holds ("Performance model"), for device {@code d}: every kernel of a decode step at
     * the three LLaMA shapes and batches 1/8/32, the GEMV against the GEMM by rows, the GEMM at 16 rows against fp16,
     * one 7B layer, and whole decode steps.
     */
    static String tables(DeviceSpec d) {
        StringBuilder out = new StringBuilder();
        out.append("| kernel | shape | batch | MB | blocks | warps/SM | µs | × copy | bound |").append('\n');
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---|").append('\n');
        for (Prediction p : table(d)) out.append(p.row()).append('\n');
        out.append('\n');
        out.append("GEMV passes against the GEMM with its x pre-pass, whole calls in µs, the 7B step's projections:")
                .append('\n');
        out.append('\n');
        List<StepLinear> sl = stepLinears(Model.LLAMA_7B);
        StringBuilder head = new StringBuilder("| rows |"), rule = new StringBuilder("|---:|");
        for (StepLinear p : sl) {
            head.append(' ').append(p.label()).append(" GEMV | GEMM |");
            rule.append("---:|---:|");
        }
        out.append(head).append('\n').append(rule).append('\n');
        for (int b : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 16}) {
            out.append("| ").append(b).append(" |");
            for (StepLinear p : sl) {
                out.append(String.format(Locale.ROOT, " %.1f | %.1f |",
                        callUs(d, linear(p.in(), p.out(), b, d.sms(), Integer.MAX_VALUE, p.io())),
                        callUs(d, linear(p.in(), p.out(), b, d.sms(), 1, p.io()))));
            }
            out.append('\n');
        }
        out.append("| GEMM from |");
        for (StepLinear p : sl) {
            out.append(' ').append(gemmCrossoverRows(d, p.in(), p.out(), p.io())).append(" rows | |");
        }
        out.append('\n');
        out.append('\n');
        out.append("The 4-bit GEMM at 16 rows against fp16 GEMMs of the same shape (not graphed; fp16 µs ÷ 4-bit µs):")
                .append('\n');
        out.append('\n');
        out.append("| model | shape | GEMM µs | whole call µs | fp16 floor µs | fp16 one launch µs | GEMM ÷ floor "
                + "| call ÷ floor | GEMM ÷ one launch | call ÷ one launch |").append('\n');
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|").append('\n');
        for (Gemm16 g : gemm16(d)) out.append(g.row()).append('\n');
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
