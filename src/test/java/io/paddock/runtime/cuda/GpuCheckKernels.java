package io.paddock.runtime.cuda;

import static io.paddock.runtime.cuda.GpuCheckBench.GB;
import static io.paddock.runtime.cuda.GpuCheckBench.round;

import io.paddock.runtime.cuda.GpuCheckBench.AttentionShape;
import io.paddock.runtime.cuda.GpuCheckBench.MatShape;
import io.paddock.runtime.cuda.GpuCheckBench.Run;
import io.paddock.runtime.cuda.GpuCheckBench.Settings;
import io.paddock.runtime.cuda.GpuDevice.Dim3;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * The {@code copy} and {@code kernels} sections of {@link GpuCheckBench}.
 *
 * <ul>
 *   <li><b>copy</b>: device-to-device copies of {@link Settings#copyBytes} (≥ 1 GiB on a GPU); GB/s counts read +
 *       write, the reference every kernel figure is held against.</li>
 *   <li><b>kernels</b>: {@link CudaKernels}' own launchers on LLaMA-7B shapes — the GPTQ matmul (decode kernel at
 *       batch ≤ 4, batched kernel above; 4-bit g128; timed without the act-order gather and, separately, with it),
 *       {@code dense_matmul} fp16 and {@code paged_attention_f32} and {@code paged_attention_decode_f16} (with its
 *       reduce) at a 2k context. Each figure rotates over copies
 *       of its weights (≥ {@link Settings#rotateBytes} in all, several times a GPU's L2) as a model's layers do,
 *       times {@link Settings#calls} calls between two synchronize() after one warm-up round, and reports µs per
 *       call, the GB/s of the bytes the call must read (weights + scales/zeros/g_idx + activations; K/V for
 *       attention) and that as a fraction of the copy rate. {@code hostUsPerCall} is the time to issue a call:
 *       where it is close to {@code usPerCall} the figure is launch-bound, a floor on the kernel's speed.</li>
 * </ul>
 * Budget checks, error records and publishing go through the {@link Run} they belong to.
 */
final class GpuCheckKernels {
    private final Run run;
    private final GpuDevice device;
    private final Settings s;
    private final PrintStream log;
    /** The best copy rate once {@link #copy()} has measured it; NaN before (and where it failed). */
    private double copyGbps = Double.NaN;

    GpuCheckKernels(Run run) {
        this.run = run;
        this.device = run.device;
        this.s = run.s;
        this.log = run.log;
    }

    // ---- copy bandwidth ----

    Map<String, Object> copy() {
        long n = s.copyBytes();
        long src = device.alloc(n);
        long dst = 0;
        try {
            dst = device.alloc(n);
            device.memsetD32(src, 0x3f800000, n / 4);
            device.copyDeviceToDevice(dst, src, n); // warm-up
            device.synchronize();
            double[] gbps = new double[s.copyReps()];
            long t0 = System.nanoTime();
            for (int i = 0; i < gbps.length; i++) {
                long a = System.nanoTime();
                device.copyDeviceToDevice(dst, src, n);
                device.synchronize();
                gbps[i] = 2.0 * n / ((System.nanoTime() - a) / 1e9) / GB;
            }
            double all = 2.0 * n * gbps.length / ((System.nanoTime() - t0) / 1e9) / GB;
            double[] sorted = gbps.clone();
            Arrays.sort(sorted);
            copyGbps = sorted[sorted.length - 1];
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("bytes", n);
            c.put("reps", gbps.length);
            c.put("gbPerSecondBest", round(copyGbps));
            c.put("gbPerSecondMedian", round(sorted[sorted.length / 2]));
            c.put("gbPerSecondAll", round(all));
            c.put("counts", "read + write (2 x bytes per copy)");
            log.printf(Locale.ROOT, "gpu-bench: copy %d MiB device-to-device: best %.1f GB/s, median %.1f GB/s (read+write)%n",
                    n >> 20, copyGbps, sorted[sorted.length / 2]);
            return c;
        } finally {
            if (dst != 0) device.free(dst);
            device.free(src);
        }
    }

    // ---- kernels ----

    List<Map<String, Object>> kernels() {
        List<Map<String, Object>> out = new ArrayList<>();
        try (CudaKernels k = new CudaKernels(device); DeviceMemory mem = new DeviceMemory(device)) {
            for (MatShape shape : s.gptqShapes()) {
                if (!run.fits("gptq " + shape.label(), 3)) break;
                try {
                    out.addAll(gptq(k, mem, shape));
                    if (GptqTileLayout.eligible(s.bits(), shape.in(), shape.out(), s.groupSize())) out.addAll(gemv(k, mem, shape));
                } catch (RuntimeException | Error e) {
                    run.error("gptq " + shape.label(), e);
                }
                publishKernels(out);
            }
            for (MatShape shape : s.denseShapes()) {
                if (!run.fits("dense_matmul " + shape.label(), 2)) break;
                try {
                    out.addAll(dense(k, mem, shape));
                } catch (RuntimeException | Error e) {
                    run.error("dense_matmul " + shape.label(), e);
                }
                publishKernels(out);
            }
            if (run.fits("paged_attention", 2)) {
                try {
                    out.addAll(attention(k, mem));
                } catch (RuntimeException | Error e) {
                    run.error("paged_attention", e);
                }
            }
        }
        return out;
    }

    private void publishKernels(List<Map<String, Object>> sofar) {
        run.result.put("kernels", sofar);
        run.publish();
    }

    /** One GPTQ layer shape at every batch; copies of qweight/qzeros/scales rotate, g_idx/perm are shared. */
    List<Map<String, Object>> gptq(CudaKernels k, DeviceMemory mem, MatShape shape) {
        int in = shape.in(), out = shape.out(), bits = s.bits(), gs = s.groupSize();
        int groups = gs == -1 ? 1 : in / gs;
        int zeroWords = out * bits / 32;
        long qBytes = (long) in * bits / 32 * out * 4, zBytes = (long) groups * zeroWords * 4, sBytes = (long) groups * out * 2;
        int maxBatch = Arrays.stream(s.gptqBatches()).max().orElse(1);
        List<Long> allocs = new ArrayList<>();
        try {
            int[] gIdx = new int[in];
            for (int i = 0; i < in; i++) gIdx[i] = gs == -1 ? 0 : i / gs;
            int[] perm = shuffled(in, 7);
            long gIdxDev = keep(allocs, mem.upload(gIdx));
            long permDev = keep(allocs, mem.upload(perm));
            long x = keep(allocs, mem.alloc((long) maxBatch * in * 4));
            long xp = keep(allocs, mem.alloc((long) maxBatch * in * 4));
            long y = keep(allocs, mem.alloc((long) maxBatch * out * 4));
            device.memsetD32(x, Float.floatToRawIntBits(0.5f), (long) maxBatch * in);
            int copies = copies(qBytes + zBytes + sBytes);
            GptqDevice[] plain = new GptqDevice[copies], actOrder = new GptqDevice[copies];
            for (int c = 0; c < copies; c++) {
                long q = keep(allocs, mem.alloc(qBytes)), z = keep(allocs, mem.alloc(zBytes)), sc = keep(allocs, mem.alloc(sBytes));
                device.memsetD32(q, 0x7654_3210 + c, qBytes / 4);
                device.memsetD32(z, 0x8888_8888, zBytes / 4);
                device.memsetD32(sc, 0x2e66_2e66, sBytes / 4); // fp16 0.1 twice
                plain[c] = new GptqDevice(in, out, bits, zeroWords, true, q, z, sc, gIdxDev, 0, 0);
                actOrder[c] = new GptqDevice(in, out, bits, zeroWords, true, q, z, sc, gIdxDev, permDev, 0);
            }
            List<Map<String, Object>> figures = new ArrayList<>();
            for (int batch : s.gptqBatches()) {
                String kernel = batch <= CudaKernels.DECODE_MAX_BATCH ? CudaKernels.DECODE.name() : CudaKernels.BATCHED.name();
                long bytes = qBytes + zBytes + sBytes + (long) in * 4 + (long) batch * in * 4;
                Timing t = time(k, copies, i -> k.gptq(plain[i % copies], x, xp, y, batch));
                Timing ta = time(k, copies, i -> k.gptq(actOrder[i % copies], x, xp, y, batch));
                Map<String, Object> f = figure(kernel, shape.label(), batch, bits + "-bit g" + gs, bytes, copies, t);
                f.put("usPerCallWithActOrderGather", round(ta.usPerCall()));
                f.put("splitK", batch <= CudaKernels.DECODE_MAX_BATCH
                        ? CudaKernels.splitK(Math.ceilDiv(out, 32), Math.ceilDiv(in, 32), device.multiprocessorCount()) : 1);
                if (batch <= CudaKernels.DECODE_MAX_BATCH) {
                    predicted(f, GpuPerfModel.gptqDecode(in, out, batch, gs, device.multiprocessorCount()));
                }
                figures.add(f);
            }
            return figures;
        } finally {
            for (int i = allocs.size() - 1; i >= 0; i--) mem.free(allocs.get(i));
        }
    }

    /**
     * gptq_gemv_tiled on one shape in the tiled 4-bit layout, at every benchmark batch up to 8 (one launch each);
     * copies of qtiles/zeros16/scales rotate, tileGroup and perm are shared. Bytes read: those tensors, tileGroup,
     * perm and x (y and the split-K partials are not counted).
     */
    List<Map<String, Object>> gemv(CudaKernels k, DeviceMemory mem, MatShape shape) {
        int in = shape.in(), out = shape.out(), gs = s.groupSize();
        int groups = gs == -1 ? 1 : in / gs;
        long qBytes = (long) in * out / 2, zBytes = (long) groups * out * 2, sBytes = zBytes;
        List<Long> allocs = new ArrayList<>();
        try {
            int[] tileGroup = new int[in / 16];
            for (int kt = 0; kt < tileGroup.length; kt++) tileGroup[kt] = gs == -1 ? 0 : kt * 16 / gs;
            long tileGroupDev = keep(allocs, mem.upload(tileGroup));
            long permDev = keep(allocs, mem.upload(shuffled(in, 7)));
            int maxRows = Math.max(CudaKernels.GEMV_MAX_ROWS, Arrays.stream(s.gptqBatches()).max().orElse(1));
            long x = keep(allocs, mem.alloc((long) maxRows * in * 4));
            long xh = keep(allocs, mem.alloc((long) maxRows * in * 2));
            long y = keep(allocs, mem.alloc((long) maxRows * out * 4));
            device.memsetD32(x, Float.floatToRawIntBits(0.5f), (long) maxRows * in);
            long counters = keep(allocs, mem.alloc(4L * GpuFootprint.SPLIT_COUNTERS));
            device.memsetD32(counters, 0, GpuFootprint.SPLIT_COUNTERS);
            SplitWorkspace ws = new SplitWorkspace(keep(allocs, mem.alloc(4 * GpuFootprint.SPLIT_PARTIALS_MAX)),
                    GpuFootprint.SPLIT_PARTIALS_MAX, counters, GpuFootprint.SPLIT_COUNTERS);
            int copies = copies(qBytes + zBytes + sBytes);
            GptqTiledDevice[] layers = new GptqTiledDevice[copies];
            for (int c = 0; c < copies; c++) {
                long q = keep(allocs, mem.alloc(qBytes)), z = keep(allocs, mem.alloc(zBytes)), sc = keep(allocs, mem.alloc(sBytes));
                device.memsetD32(q, 0x7654_3210 + c, qBytes / 4);
                device.memsetD32(z, 0x6408_6408, zBytes / 4);   // fp16 1032 = 1024 + zero 8, twice
                device.memsetD32(sc, 0x2e66_2e66, sBytes / 4);  // fp16 0.1 twice
                layers[c] = new GptqTiledDevice(in, out, groups, 4, q, z, sc, tileGroupDev, permDev, 0);
            }
            List<Map<String, Object>> figures = new ArrayList<>();
            int sms = device.multiprocessorCount();
            for (int batch : s.gptqBatches()) {
                long bytes = qBytes + zBytes + sBytes + 4L * (in / 16) + 4L * in + (long) batch * in * 4;
                String format = "4-bit g" + gs + " tiled act-order";
                if (batch <= CudaKernels.GEMV_MAX_ROWS) {
                    Timing t = time(k, copies, i -> k.gemvPasses(layers[i % copies], x, y, ws, batch));
                    Map<String, Object> f = figure(CudaKernels.GEMV.name(), shape.label(), batch, format, bytes, copies, t);
                    int split = CudaKernels.gemvSplitK(out / 64, in / 16, sms);
                    f.put("splitK", split);
                    figures.add(predicted(f, GpuPerfModel.gemvTiled(in, out, batch, gs, split,
                            GpuPerfModel.registers(CudaKernels.GEMV.name(), 165),
                            GpuPerfModel.smem(CudaKernels.GEMV.name(), 24576))));
                }
                // The tensor-core GEMM at every batch (with its x pre-pass): where it overtakes the GEMV decides
                // CudaKernels.GEMM_FROM_ROWS.
                GptqTiledDevice[] ls = layers;
                Timing t = time(k, copies, i -> {
                    GptqTiledDevice g = ls[i % copies];
                    k.gptqMma(x, 0, g.perm(), xh, g.qtiles(), g.zeros16(), g.scales(), g.tileGroup(), g.bias(),
                            GptqOut.to(y, out), ws, batch, in, out);
                });
                Map<String, Object> f = figure(CudaKernels.MMA_GEMM.name(), shape.label(), batch, format, bytes, copies, t);
                f.put("splitK", CudaKernels.mmaGrid(batch, in, out, sms).z());
                figures.add(predicted(f, GpuPerfModel.gemmMma(in, out, batch, gs, sms,
                        GpuPerfModel.registers(CudaKernels.MMA_GEMM.name(), 211),
                        GpuPerfModel.smem(CudaKernels.MMA_GEMM.name(), 36868))));
                // usPerCall times the whole call (x pre-pass + GEMM): the model's figure for that too
                f.put("predictedCallUs",
                        round(GpuPerfModel.callUs(modelSpec(), GpuPerfModel.linear(in, out, batch, sms, 1))));
            }
            return figures;
        } finally {
            for (int i = allocs.size() - 1; i >= 0; i--) mem.free(allocs.get(i));
        }
    }

    /** dense_matmul with fp16 weights (the lm_head of a GPTQ checkpoint is dense fp16). */
    List<Map<String, Object>> dense(CudaKernels k, DeviceMemory mem, MatShape shape) {
        int in = shape.in(), out = shape.out();
        long wBytes = (long) in * out * 2;
        int maxBatch = Arrays.stream(s.denseBatches()).max().orElse(1);
        List<Long> allocs = new ArrayList<>();
        try {
            long x = keep(allocs, mem.alloc((long) maxBatch * in * 4));
            long y = keep(allocs, mem.alloc((long) maxBatch * out * 4));
            device.memsetD32(x, Float.floatToRawIntBits(0.5f), (long) maxBatch * in);
            int copies = copies(wBytes);
            long[] w = new long[copies];
            for (int c = 0; c < copies; c++) {
                w[c] = keep(allocs, mem.alloc(wBytes));
                device.memsetD32(w[c], 0x2e66_2e66, wBytes / 4);
            }
            List<Map<String, Object>> figures = new ArrayList<>();
            for (int batch : s.denseBatches()) {
                Timing t = time(k, copies, i -> k.dense(x, w[i % copies], y, batch, in, out, 1));
                figures.add(predicted(figure(CudaKernels.DENSE.name(), shape.label(), batch, "fp16",
                        wBytes + (long) batch * in * 4, copies, t), GpuPerfModel.denseFp16(in, out, batch)));
            }
            return figures;
        } finally {
            for (int i = allocs.size() - 1; i >= 0; i--) mem.free(allocs.get(i));
        }
    }

    /** paged_attention_f32: every row (one decoding sequence) attends over the whole context. */
    List<Map<String, Object>> attention(CudaKernels k, DeviceMemory mem) {
        AttentionShape a = s.attention();
        int kvDim = a.kvHeads() * a.headDim(), qDim = a.heads() * a.headDim();
        int perSeq = Math.ceilDiv(a.context(), a.blockSize());
        List<Map<String, Object>> figures = new ArrayList<>();
        for (int rows : s.attentionBatches()) {
            if (!run.fits("paged_attention batch " + rows, 1)) break;
            List<Long> allocs = new ArrayList<>();
            try {
                long poolBytes = (long) rows * perSeq * a.blockSize() * kvDim * 4;
                int[] tables = new int[rows * perSeq], offsets = new int[rows], pos = new int[rows];
                for (int r = 0; r < rows; r++) {
                    offsets[r] = r * perSeq;
                    pos[r] = a.context() - 1;
                    for (int b = 0; b < perSeq; b++) tables[r * perSeq + b] = r * perSeq + b;
                }
                long tablesDev = keep(allocs, mem.upload(tables));
                long offDev = keep(allocs, mem.upload(offsets));
                long posDev = keep(allocs, mem.upload(pos));
                long q = keep(allocs, mem.alloc((long) rows * qDim * 4));
                long o = keep(allocs, mem.alloc((long) rows * qDim * 4));
                device.memsetD32(q, Float.floatToRawIntBits(0.01f), (long) rows * qDim);
                int copies = copies(2 * poolBytes);
                long[] kp = new long[copies], vp = new long[copies];
                for (int c = 0; c < copies; c++) {
                    kp[c] = keep(allocs, mem.alloc(poolBytes));
                    vp[c] = keep(allocs, mem.alloc(poolBytes));
                    device.memsetD32(kp[c], Float.floatToRawIntBits(0.01f), poolBytes / 4);
                    device.memsetD32(vp[c], Float.floatToRawIntBits(0.02f), poolBytes / 4);
                }
                long bytes = 2 * (long) rows * a.context() * kvDim * 4 + (long) rows * qDim * 4 + (long) tables.length * 4;
                Timing t = time(k, copies, i -> k.attention(o, q, kp[i % copies], vp[i % copies], tablesDev, offDev, posDev,
                        rows, a.heads(), a.kvHeads(), a.headDim(), a.blockSize()));
                Map<String, Object> f = figure(CudaKernels.ATTENTION.name(), "context " + a.context() + ", " + a.heads()
                        + " heads x " + a.headDim(), rows, "fp32 KV", bytes, copies, t);
                figures.add(f);
                // The fp16 pool's flash-decoding over the same context and half the K/V bytes; the pools above read
                // as fp16 pairs are finite values, which is all the timing needs.
                int ctx = a.context(), part = GpuFootprint.attentionPartition(ctx), splits = GpuFootprint.attentionSplits(ctx);
                int[] rowIds = new int[rows];
                for (int r = 0; r < rows; r++) rowIds[r] = r;
                long rowsDev = keep(allocs, mem.upload(rowIds));
                long partO = keep(allocs, mem.alloc((long) rows * a.heads() * splits * a.headDim() * 4));
                long partML = keep(allocs, mem.alloc((long) rows * a.heads() * splits * 2 * 4));
                long counters = keep(allocs, mem.alloc((long) rows * a.kvHeads() * 4));
                device.memsetD32(counters, 0, (long) rows * a.kvHeads());
                Timing t16 = time(k, copies, i -> k.attentionDecodeF16(o, partO, partML, counters, q, kp[i % copies],
                        vp[i % copies], tablesDev, offDev, posDev, rowsDev, rows, a.heads(), a.kvHeads(), a.headDim(),
                        a.blockSize(), part, splits));
                figures.add(predicted(figure(CudaKernels.ATTENTION_DECODE_F16.name(), "context " + ctx + ", " + a.heads()
                        + " heads x " + a.headDim() + ", " + splits + " partitions of " + part, rows, "fp16 KV",
                        2 * (long) rows * ctx * kvDim * 2 + (long) rows * qDim * 4 + (long) tables.length * 4, copies, t16),
                        GpuPerfModel.attentionDecodeF16(rows, a.heads(), a.kvHeads(), a.headDim(), ctx, part)));
            } catch (RuntimeException | Error e) {
                run.error("paged_attention batch " + rows, e);
            } finally {
                for (int i = allocs.size() - 1; i >= 0; i--) mem.free(allocs.get(i));
            }
        }
        return figures;
    }

    int copies(long bytesPerCopy) {
        return (int) Math.max(1, Math.min(256, Math.ceilDiv(s.rotateBytes(), Math.max(1, bytesPerCopy))));
    }

    /** @param launchesPerCall kernel launches one call makes (the act-order gather is one; memsets are not) */
    record Timing(double usPerCall, double hostUsPerCall, int calls, double launchesPerCall) {}

    /** One warm-up round over the copies, then {@link Settings#calls} timed calls between two synchronize(). */
    Timing time(CudaKernels k, int copies, IntConsumer call) {
        for (int i = 0; i < copies; i++) call.accept(i);
        device.synchronize();
        int n = Math.max(s.calls(), 1);
        long launchesBefore = launches(k);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) call.accept(i);
        long issued = System.nanoTime();
        device.synchronize();
        long t1 = System.nanoTime();
        return new Timing((t1 - t0) / 1e3 / n, (issued - t0) / 1e3 / n, n, (double) (launches(k) - launchesBefore) / n);
    }

    private static long launches(CudaKernels k) {
        return k.launches();
    }

    Map<String, Object> figure(String kernel, String shape, int batch, String format, long bytes, int copies, Timing t) {
        double gbps = bytes / (t.usPerCall() * 1e-6) / GB;
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("kernel", kernel);
        f.put("shape", shape);
        f.put("batch", batch);
        f.put("format", format);
        f.put("bytesRead", bytes);
        f.put("copies", copies);
        f.put("calls", t.calls());
        f.put("launchesPerCall", round(t.launchesPerCall()));
        f.put("usPerCall", round(t.usPerCall()));
        f.put("hostUsPerCall", round(t.hostUsPerCall()));
        f.put("gbPerSecond", round(gbps));
        f.put("fractionOfCopy", Double.isNaN(copyGbps) ? null : round(gbps / copyGbps));
        log.printf(Locale.ROOT, "gpu-bench: %-20s %-26s batch %2d: %9.2f us/call (issue %.2f us), %8.1f GB/s%s%n", kernel,
                shape, batch, t.usPerCall(), t.hostUsPerCall(), gbps,
                Double.isNaN(copyGbps) ? "" : String.format(Locale.ROOT, " = %.2f of copy", gbps / copyGbps));
        return f;
    }

    /**
     * Puts the performance model's prediction for {@code launch} beside a measured figure (docs/gpu-kernels.md,
     * "Performance model"): the model runs with this device's SM count and, once measured, its copy bandwidth.
     */
    Map<String, Object> predicted(Map<String, Object> figure, GpuPerfModel.Launch launch) {
        GpuPerfModel.Prediction p = GpuPerfModel.predict(modelSpec(), launch);
        figure.put("predictedUs", round(p.us()));
        figure.put("predictedFractionOfCopy", round(p.fractionOfCopy()));
        figure.put("predictedBound", p.bound());
        figure.put("predictedModelBytes", launch.dramBytes());
        log.printf(Locale.ROOT, "gpu-bench:   model: %.2f us (%.2f of copy, %s-bound); measured/predicted time %.2f%n",
                p.us(), p.fractionOfCopy(), p.bound(),
                figure.get("usPerCall") instanceof Number n ? n.doubleValue() / p.us() : Double.NaN);
        return figure;
    }

    /** The model's device: this one's SM count and, once measured, its copy bandwidth. */
    private GpuPerfModel.DeviceSpec modelSpec() {
        return GpuPerfModel.DeviceSpec.H100_SXM.withMeasured(device.multiprocessorCount(),
                Double.isNaN(copyGbps) ? GpuPerfModel.DeviceSpec.H100_SXM.copyGbps() : copyGbps);
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static long keep(List<Long> allocs, long address) {
        allocs.add(address);
        return address;
    }

    private static int[] shuffled(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        Random r = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
