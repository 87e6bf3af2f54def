package io.paddock.runtime.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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

    /** {@code dense_matmul} with fp16 weights (the lm_head): a warp per output row, lanes over K. */
    static Launch denseFp16(int in, int out, int batch) {
        long bytes = (long) in * out * 2 + (long) batch * (in + out) * 4;
        double warpInstr = (double) out * Math.ceilDiv(in, 32) * (2 + 2.0 * batch);
        return new Launch("dense_matmul", in + "→" + out, batch, bytes, Math.ceilDiv(out, 8), 256, 48, 0, 32 * 2 * 2,
                warpInstr);
    }

    static List<Prediction> table(DeviceSpec d) {
        List<Prediction> rows = new ArrayList<>();
        for (Model m : List.of(Model.LLAMA_7B, Model.LLAMA_13B, Model.LLAMA_65B)) {
            for (int batch : new int[] {1, 8, 32}) {
                if (batch <= CudaKernels.DECODE_MAX_BATCH) {
                    rows.add(predict(d, gptqDecode(m.hidden(), m.hidden(), batch, 128, d.sms())));
                    rows.add(predict(d, gptqDecode(m.hidden(), m.intermediate(), batch, 128, d.sms())));
                    rows.add(predict(d, gptqDecode(m.intermediate(), m.hidden(), batch, 128, d.sms())));
                }
            }
            rows.add(predict(d, denseFp16(m.hidden(), m.vocab(), 1)));
        }
        return rows;
    }

    /** Prints the document's table for the assumed H100. */
    public static void main(String[] args) {
        DeviceSpec d = DeviceSpec.H100_SXM;
        System.out.println("| kernel | shape | batch | MB | blocks | warps/SM | µs | × copy | bound |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---|");
        for (Prediction p : table(d)) System.out.println(p.row());
    }
}
