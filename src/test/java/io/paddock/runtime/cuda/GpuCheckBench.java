package io.paddock.runtime.cuda;

import io.paddock.bench.SyntheticCheckpoint;
import io.paddock.bench.SyntheticShape;
import io.paddock.bench.SyntheticSpec;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.runtime.StepChunk;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The GPU benchmarks of scripts/gpu-check, on any {@link GpuDevice}: the real one there ({@link JCudaDevice}), the
 * simulated one in {@code GpuBenchSmokeTests} (tiny sizes, so this code cannot rot between GPU sessions).
 *
 * <ol>
 *   <li><b>copy</b>: device-to-device copies of {@link Settings#copyBytes} (≥ 1 GiB on a GPU); GB/s counts read +
 *       write, the reference every kernel figure is held against.</li>
 *   <li><b>kernels</b>: {@link CudaKernels}' own launchers on LLaMA-7B shapes — the GPTQ matmul (decode kernel at
 *       batch ≤ 4, batched kernel above; 4-bit g128; timed without the act-order gather and, separately, with it),
 *       {@code dense_matmul} fp16 and {@code paged_attention_f32} at a 2k context. Each figure rotates over copies
 *       of its weights (≥ {@link Settings#rotateBytes} in all, several times a GPU's L2) as a model's layers do,
 *       times {@link Settings#calls} calls between two synchronize() after one warm-up round, and reports µs per
 *       call, the GB/s of the bytes the call must read (weights + scales/zeros/g_idx + activations; K/V for
 *       attention) and that as a fraction of the copy rate. {@code hostUsPerCall} is the time to issue a call:
 *       where it is close to {@code usPerCall} the figure is launch-bound, a floor on the kernel's speed.</li>
 *   <li><b>endToEnd</b>: {@link CudaRuntime#forward} decode tokens/s at batches 1/8/32 (every step returns the
 *       logits to the host, as serving does) and prefill tokens/s of a {@link Settings#prefillTokens}-token prompt
 *       on stories260K and a synthetic LLaMA-7B-shaped GPTQ model (4-bit g128 act-order) with
 *       {@link Settings#syntheticLayers} layers; where {@link Settings#baseLayers} is set, the same checkpoint cut to
 *       that many layers is measured too and the full depth (32 layers) estimated from the per-layer difference.</li>
 * </ol>
 * Results go into one JSON object ({@link #run}), rewritten after every section so a run killed for time still
 * leaves what it measured; {@code GpuCheckReport} renders it. Sections that would overrun
 * {@link Settings#budgetSeconds} are skipped and say so.
 *
 * <p>Usage: {@code GpuCheckBench --json FILE [--device auto|cuda|sim] [--work DIR] [--budget-s S] [--layers N]
 * [--base-layers N] [--stories DIR] [--smoke]}. Without a device ({@code auto}, no driver) it writes
 * {@code {"device": null, "unavailable": reason}} and exits 0; it exits 2 where a section failed.
 */
public final class GpuCheckBench {
    static final double GB = 1e9;

    private GpuCheckBench() {}

    /** A GPTQ layer shape: {@code in} input features, {@code out} outputs (gate/up of 7B: 4096 → 11008). */
    record MatShape(int in, int out) {
        String label() {
            return in + "→" + out;
        }
    }

    /** Paged attention geometry: heads, KV heads, head size, context length (positions attended), KV block size. */
    record AttentionShape(int heads, int kvHeads, int headDim, int context, int blockSize) {}

    /**
     * What to measure and how much of it.
     *
     * @param rotateBytes   device bytes each kernel figure's weights span (copies rotated per call), to defeat L2
     * @param calls         timed calls per kernel figure
     * @param e2eBatches    decode batch sizes of the end-to-end figures
     * @param syntheticLayers layers of the synthetic GPTQ model actually written and loaded
     * @param baseLayers    0, or a smaller layer count measured too, for the full-depth estimate
     * @param budgetSeconds sections that would start after this many seconds are skipped
     */
    record Settings(long copyBytes, int copyReps, long rotateBytes, int calls, int bits, int groupSize,
            List<MatShape> gptqShapes, int[] gptqBatches, List<MatShape> denseShapes, int[] denseBatches,
            AttentionShape attention, int[] attentionBatches, int[] e2eBatches, int promptTokens, int warmupSteps,
            int decodeSteps, int prefillTokens, int prefillReps, SyntheticShape syntheticShape, int syntheticLayers,
            int baseLayers, double budgetSeconds) {

        /** The real thing: 1 GiB copies, LLaMA-7B shapes, an 8-layer synthetic 7B (+ 2 layers for the estimate). */
        static Settings gpu() {
            SyntheticShape s = SyntheticShape.LLAMA_7B;
            return new Settings(1L << 30, 20, 512L << 20, 200, 4, 128,
                    List.of(new MatShape(4096, 4096), new MatShape(4096, 11008), new MatShape(11008, 4096)),
                    new int[] {1, 4, 8, 32},
                    List.of(new MatShape(4096, 32000), new MatShape(4096, 4096)), new int[] {1},
                    new AttentionShape(s.heads(), s.kvHeads(), s.headDim(), 2048, 16), new int[] {1, 8},
                    new int[] {1, 8, 32}, 16, 3, 64, 512, 3, s, 8, 2, 110);
        }

        /** The tiny synthetic shape with 4 layers, so that writing 2 and cutting to 1 estimates a deeper model. */
        static final SyntheticShape TINY_4_LAYERS = new SyntheticShape("tiny", SyntheticShape.TINY.hidden(),
                SyntheticShape.TINY.intermediate(), 4, SyntheticShape.TINY.heads(), SyntheticShape.TINY.kvHeads(),
                SyntheticShape.TINY.vocab(), SyntheticShape.TINY.maxPositions(), SyntheticShape.TINY.rmsNormEps());

        /**
         * Seconds on the simulated device (which emulates every thread of every block on the CPU): every code path of
         * {@link #gpu()} — decode and batched GPTQ kernels, split-K, the act-order gather, several row tiles, the
         * cut-model estimate — at toy sizes.
         */
        static Settings smoke() {
            return new Settings(1L << 20, 2, 64L << 10, 2, 4, 128,
                    List.of(new MatShape(128, 128), new MatShape(128, 384), new MatShape(384, 128)),
                    new int[] {1, 4, 8, 32},
                    List.of(new MatShape(128, 256)), new int[] {1},
                    new AttentionShape(4, 2, 32, 48, 16), new int[] {1, 2},
                    new int[] {1, 5}, 4, 1, 2, 16, 1, TINY_4_LAYERS, 2, 1, 600);
        }

        Settings withLayers(int layers, int base) {
            return new Settings(copyBytes, copyReps, rotateBytes, calls, bits, groupSize, gptqShapes, gptqBatches,
                    denseShapes, denseBatches, attention, attentionBatches, e2eBatches, promptTokens, warmupSteps,
                    decodeSteps, prefillTokens, prefillReps, syntheticShape, layers, base, budgetSeconds);
        }

        Settings withBudget(double seconds) {
            return new Settings(copyBytes, copyReps, rotateBytes, calls, bits, groupSize, gptqShapes, gptqBatches,
                    denseShapes, denseBatches, attention, attentionBatches, e2eBatches, promptTokens, warmupSteps,
                    decodeSteps, prefillTokens, prefillReps, syntheticShape, syntheticLayers, baseLayers, seconds);
        }
    }

    /** A model for the end-to-end section: a fixture folder, or a synthetic checkpoint written on first use. */
    record E2eModel(String label, Path dir, GptqOverrides overrides, SyntheticSpec synthetic) {
        static E2eModel fixture(String label, Path dir, GptqOverrides overrides) {
            return new E2eModel(label, dir, overrides, null);
        }

        static E2eModel synthetic(SyntheticSpec spec, Path dir) {
            return new E2eModel("synthetic " + spec.describe(), dir, GptqOverrides.NONE, spec);
        }
    }

    /** Where results go as they come: called with the whole (growing) result object after every section. */
    interface Sink {
        void update(Map<String, Object> result);
    }

    // ---------------------------------------------------------------------------------------------------------------

    /**
     * Runs every section on {@code device}, which stays open (the runtimes get a non-closing view of it; the caller
     * closes it). Never throws for a failed section: its error is recorded and the next section runs.
     */
    static Map<String, Object> run(GpuDevice device, Settings s, List<E2eModel> models, Sink sink, PrintStream log) {
        Run r = new Run(device, s, sink, log);
        r.all(models);
        return r.result;
    }

    private static final class Run {
        final GpuDevice device;
        final Settings s;
        final Sink sink;
        final PrintStream log;
        final long start = System.nanoTime();
        final Map<String, Object> result = new LinkedHashMap<>();
        final List<String> skipped = new ArrayList<>();
        final List<String> errors = new ArrayList<>();
        double copyGbps = Double.NaN;

        Run(GpuDevice device, Settings s, Sink sink, PrintStream log) {
            this.device = device;
            this.s = s;
            this.sink = sink;
            this.log = log;
        }

        double elapsed() {
            return (System.nanoTime() - start) / 1e9;
        }

        /** Whether a section estimated at {@code seconds} may start; records the skip where not. */
        boolean fits(String what, double seconds) {
            double left = s.budgetSeconds() - elapsed();
            if (seconds <= left) return true;
            String why = what + ": skipped, " + fmt(left) + " s of the " + fmt(s.budgetSeconds())
                    + " s budget left, needs about " + fmt(seconds) + " s";
            skipped.add(why);
            log.println("gpu-bench: " + why);
            return false;
        }

        void error(String what, Throwable t) {
            String msg = what + ": " + t.getClass().getSimpleName() + ": " + t.getMessage();
            errors.add(msg);
            log.println("gpu-bench: FAILED " + msg);
            t.printStackTrace(log);
        }

        void publish() {
            result.put("elapsedSeconds", round(elapsed()));
            result.put("skipped", List.copyOf(skipped));
            result.put("errors", List.copyOf(errors));
            sink.update(result);
        }

        void all(List<E2eModel> models) {
            result.put("settings", settingsJson(s));
            result.put("device", deviceJson(device));
            publish();
            try {
                result.put("copy", copy());
            } catch (RuntimeException | Error e) {
                error("copy bandwidth", e);
            }
            publish();
            try {
                result.put("kernels", kernels());
            } catch (RuntimeException | Error e) {
                error("kernels", e);
            }
            if (device instanceof JCudaDevice j) {
                Map<String, Object> d = new LinkedHashMap<>(deviceJson(device));
                d.put("moduleImages", new LinkedHashMap<>(j.moduleImages()));
                result.put("device", d);
            }
            publish();
            List<Map<String, Object>> e2e = new ArrayList<>();
            result.put("endToEnd", e2e);
            for (E2eModel m : models) {
                try {
                    endToEnd(m, e2e);
                } catch (RuntimeException | Error e) {
                    error("end to end " + m.label(), e);
                }
                publish();
            }
            publish();
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
                    if (!fits("gptq " + shape.label(), 3)) break;
                    try {
                        out.addAll(gptq(k, mem, shape));
                    } catch (RuntimeException | Error e) {
                        error("gptq " + shape.label(), e);
                    }
                    publishKernels(out);
                }
                for (MatShape shape : s.denseShapes()) {
                    if (!fits("dense_matmul " + shape.label(), 2)) break;
                    try {
                        out.addAll(dense(k, mem, shape));
                    } catch (RuntimeException | Error e) {
                        error("dense_matmul " + shape.label(), e);
                    }
                    publishKernels(out);
                }
                if (fits("paged_attention", 2)) {
                    try {
                        out.addAll(attention(k, mem));
                    } catch (RuntimeException | Error e) {
                        error("paged_attention", e);
                    }
                }
            }
            return out;
        }

        private void publishKernels(List<Map<String, Object>> sofar) {
            result.put("kernels", sofar);
            publish();
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
                    figures.add(f);
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
                    figures.add(figure(CudaKernels.DENSE.name(), shape.label(), batch, "fp16", wBytes + (long) batch * in * 4,
                            copies, t));
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
                if (!fits("paged_attention batch " + rows, 1)) break;
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
                } catch (RuntimeException | Error e) {
                    error("paged_attention batch " + rows, e);
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

        // ---- end to end ----

        /** Measures {@code m} into a new entry of {@code into}, added as soon as it starts (partial results count). */
        void endToEnd(E2eModel m, List<Map<String, Object>> into) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("model", m.label());
            Path dir = m.dir();
            if (m.synthetic() != null) {
                // Writing and uploading a GPTQ act-order model costs seconds per 7B layer (the host re-pack of
                // GptqHostLayout, ~3 s per 7B layer on one core), so budget it by weights per layer.
                SyntheticSpec spec = m.synthetic();
                SyntheticShape sh = spec.shape();
                int layers = spec.layers() + Math.max(0, s.baseLayers());
                double perLayer = 4.0 * (4.0 * sh.hidden() * sh.hidden() + 3.0 * sh.hidden() * sh.intermediate())
                        / (4.0 * 4096 * 4096 + 3.0 * 4096 * 11008);
                double need = 10 + perLayer * layers;
                if (!fits("end to end " + m.label(), need)) return;
                if (!Files.isRegularFile(dir.resolve(SyntheticCheckpoint.WEIGHTS))) {
                    long t0 = System.nanoTime();
                    SyntheticCheckpoint.write(spec, dir);
                    e.put("writeSeconds", round((System.nanoTime() - t0) / 1e9));
                }
            } else if (!Files.isDirectory(dir)) {
                skipped.add("end to end " + m.label() + ": " + dir + " not found");
                return;
            } else if (!fits("end to end " + m.label(), 5)) {
                return;
            }
            into.add(e);
            Map<String, Object> full = measure(dir, m.overrides(), e);
            if (m.synthetic() != null && s.baseLayers() > 0 && s.baseLayers() < m.synthetic().layers()
                    && m.synthetic().layers() < m.synthetic().shape().layers()
                    && fits("end to end " + m.label() + " cut to " + s.baseLayers() + " layers", 10)) {
                Path cut = cutLayers(dir, s.baseLayers());
                Map<String, Object> base = new LinkedHashMap<>();
                e.put("baseLayers", base);
                measure(cut, m.overrides(), base);
                e.put("estimatedFullDepth", estimate(full, base, m.synthetic()));
            }
        }

        /** Loads {@code dir}, fills {@code e} with layers, load time, decode and prefill figures; returns e. */
        Map<String, Object> measure(Path dir, GptqOverrides overrides, Map<String, Object> e) {
            long t0 = System.nanoTime();
            try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(dir, overrides);
                 CudaRuntime rt = new CudaRuntime(ckpt.weights(), new Unclosed(device))) {
                e.put("layers", ckpt.config().numLayers());
                e.put("loadSeconds", round((System.nanoTime() - t0) / 1e9));
                e.put("deviceBytes", rt.deviceBytes());
                log.printf(Locale.ROOT, "gpu-bench: %s (%d layers) loaded in %.1f s%n", dir.getFileName(),
                        ckpt.config().numLayers(), (System.nanoTime() - t0) / 1e9);
                List<Map<String, Object>> decode = new ArrayList<>();
                e.put("decode", decode);
                for (int batch : s.e2eBatches()) {
                    decode.add(decode(rt, batch));
                    publish();
                }
                e.put("prefill", prefill(rt));
            }
            return e;
        }

        Map<String, Object> decode(CudaRuntime rt, int batch) {
            int vocab = rt.config().vocabSize(), block = 16;
            int prompt = Math.max(1, Math.min(s.promptTokens(), CudaRuntime.DEFAULT_MAX_ROWS / batch));
            int perSeq = Math.ceilDiv(prompt + s.warmupSteps() + s.decodeSteps(), block);
            try (CudaKvStore kv = rt.newKvStore(batch * perSeq, block)) {
                int[][] tables = new int[batch][perSeq];
                for (int q = 0; q < batch; q++) for (int b = 0; b < perSeq; b++) tables[q][b] = q * perSeq + b;
                List<StepChunk> pre = new ArrayList<>();
                for (int q = 0; q < batch; q++) {
                    int[] t = new int[prompt];
                    for (int i = 0; i < prompt; i++) t[i] = token(i * 31 + q * 7, vocab);
                    pre.add(new StepChunk(tables[q], t, 0, true));
                }
                rt.forward(kv, pre);
                int p = prompt;
                for (int w = 0; w < s.warmupSteps(); w++, p++) rt.forward(kv, step(tables, p, vocab));
                long t0 = System.nanoTime();
                for (int i = 0; i < s.decodeSteps(); i++, p++) rt.forward(kv, step(tables, p, vocab));
                double secs = (System.nanoTime() - t0) / 1e9;
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("batch", batch);
                d.put("steps", s.decodeSteps());
                d.put("msPerStep", round(secs * 1e3 / s.decodeSteps()));
                d.put("tokensPerSecond", round(batch * s.decodeSteps() / secs));
                log.printf(Locale.ROOT, "gpu-bench:   decode batch %2d: %8.1f tok/s (%.3f ms/step)%n", batch,
                        batch * s.decodeSteps() / secs, secs * 1e3 / s.decodeSteps());
                return d;
            }
        }

        private static List<StepChunk> step(int[][] tables, int pos, int vocab) {
            List<StepChunk> dec = new ArrayList<>(tables.length);
            for (int q = 0; q < tables.length; q++) dec.add(new StepChunk(tables[q], new int[] {token(pos * 13 + q, vocab)}, pos, true));
            return dec;
        }

        Map<String, Object> prefill(CudaRuntime rt) {
            int vocab = rt.config().vocabSize(), block = 16;
            int n = Math.min(Math.min(s.prefillTokens(), rt.config().maxPositionEmbeddings()), CudaRuntime.DEFAULT_MAX_ROWS);
            int blocks = Math.ceilDiv(n, block);
            try (CudaKvStore kv = rt.newKvStore(blocks, block)) {
                int[] table = new int[blocks];
                for (int b = 0; b < blocks; b++) table[b] = b;
                int[] t = new int[n];
                for (int i = 0; i < n; i++) t[i] = token(i * 17 + 3, vocab);
                List<StepChunk> chunk = List.of(new StepChunk(table, t, 0, true));
                rt.forward(kv, chunk); // warm-up
                double best = Double.MAX_VALUE;
                for (int r = 0; r < Math.max(1, s.prefillReps()); r++) {
                    long t0 = System.nanoTime();
                    rt.forward(kv, chunk);
                    best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                }
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("tokens", n);
                p.put("ms", round(best * 1e3));
                p.put("tokensPerSecond", round(n / best));
                log.printf(Locale.ROOT, "gpu-bench:   prefill %d tokens: %.1f tok/s (%.1f ms)%n", n, n / best, best * 1e3);
                return p;
            }
        }

        /**
         * Step time as a + b·layers through the two measured depths, at the shape's full depth; prefill alike.
         * Random weights, so only the timing means anything.
         */
        @SuppressWarnings("unchecked")
        Map<String, Object> estimate(Map<String, Object> full, Map<String, Object> base, SyntheticSpec spec) {
            int l1 = (int) full.get("layers"), l0 = (int) base.get("layers"), target = spec.shape().layers();
            List<Map<String, Object>> d1 = (List<Map<String, Object>>) full.get("decode");
            List<Map<String, Object>> d0 = (List<Map<String, Object>>) base.get("decode");
            List<Map<String, Object>> est = new ArrayList<>();
            for (int i = 0; i < Math.min(d1.size(), d0.size()); i++) {
                double ms1 = (double) d1.get(i).get("msPerStep"), ms0 = (double) d0.get(i).get("msPerStep");
                int batch = (int) d1.get(i).get("batch");
                double perLayer = (ms1 - ms0) / (l1 - l0);
                double ms = ms1 + perLayer * (target - l1);
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("batch", batch);
                x.put("msPerLayer", round(perLayer));
                x.put("msPerStep", round(ms));
                x.put("tokensPerSecond", round(batch * 1e3 / ms));
                if (perLayer <= 0) x.put("unreliable", "the deeper model was not slower: noise larger than the layers' cost");
                est.add(x);
            }
            Map<String, Object> p1 = (Map<String, Object>) full.get("prefill"), p0 = (Map<String, Object>) base.get("prefill");
            double ms1 = (double) p1.get("ms"), ms0 = (double) p0.get("ms");
            double ms = ms1 + (ms1 - ms0) / (l1 - l0) * (target - l1);
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("tokens", p1.get("tokens"));
            p.put("ms", round(ms));
            p.put("tokensPerSecond", round((int) p1.get("tokens") * 1e3 / ms));
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("layers", target);
            e.put("method", "linear in layers through the " + l0 + "- and " + l1 + "-layer measurements");
            e.put("decode", est);
            e.put("prefill", p);
            for (Map<String, Object> x : est) {
                log.printf(Locale.ROOT, "gpu-bench:   estimated %d layers, decode batch %2d: %8.1f tok/s%n", target,
                        (int) x.get("batch"), (double) x.get("tokensPerSecond"));
            }
            return e;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static long keep(List<Long> allocs, long address) {
        allocs.add(address);
        return address;
    }

    private static int token(int i, int vocab) {
        return 1 + Math.floorMod(i, vocab - 1);
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

    /**
     * A view of a model folder with only the first {@code layers} decoder layers: config.json rewritten, every other
     * file linked (the loader reads layers by name and ignores the rest).
     */
    static Path cutLayers(Path dir, int layers) {
        Path cut = dir.resolveSibling(dir.getFileName() + "-first" + layers);
        try {
            Files.createDirectories(cut);
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    String name = f.getFileName().toString();
                    if (name.equals("config.json")) continue;
                    Path link = cut.resolve(name);
                    Files.deleteIfExists(link);
                    Files.createSymbolicLink(link, f.toAbsolutePath());
                }
            }
            JsonMapper json = JsonMapper.builder().build();
            ObjectNode config = (ObjectNode) json.readTree(dir.resolve("config.json").toFile());
            config.put("num_hidden_layers", layers);
            Path tmp = cut.resolve("config.json.tmp");
            json.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), config);
            Files.move(tmp, cut.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
            return cut;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + cut, e);
        }
    }

    static Map<String, Object> deviceJson(GpuDevice d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", d.name());
        m.put("computeCapability", d.computeCapability() / 10 + "." + d.computeCapability() % 10);
        m.put("multiprocessors", d.multiprocessorCount());
        CudaDevices.MemInfo mem = d.memInfo();
        m.put("memoryTotalBytes", mem.totalBytes());
        m.put("memoryFreeBytes", mem.freeBytes());
        if (d instanceof JCudaDevice j) m.put("driverCudaVersion", j.driverVersion() / 1000 + "." + j.driverVersion() % 1000 / 10);
        m.put("kind", d instanceof JCudaDevice ? "cuda" : d.getClass().getSimpleName());
        return m;
    }

    static Map<String, Object> settingsJson(Settings s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("copyBytes", s.copyBytes());
        m.put("rotateBytes", s.rotateBytes());
        m.put("callsPerFigure", s.calls());
        m.put("gptq", s.bits() + "-bit g" + s.groupSize() + " act-order");
        m.put("syntheticModel", s.syntheticShape().name() + ", " + s.syntheticLayers() + " layers"
                + (s.baseLayers() > 0 ? " (+ " + s.baseLayers() + " for the full-depth estimate)" : ""));
        m.put("decodeSteps", s.decodeSteps());
        m.put("prefillTokens", s.prefillTokens());
        m.put("budgetSeconds", s.budgetSeconds());
        return m;
    }

    static double round(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) return v;
        double scale = Math.abs(v) >= 100 ? 10 : Math.abs(v) >= 1 ? 1000 : 1e6;
        return Math.round(v * scale) / scale;
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.0f", v);
    }

    /** Hands the runtimes a device they cannot close, so one device serves every model in turn. */
    static final class Unclosed implements GpuDevice {
        private final GpuDevice d;

        Unclosed(GpuDevice d) {
            this.d = d;
        }

        @Override public String name() { return d.name(); }
        @Override public int computeCapability() { return d.computeCapability(); }
        @Override public int multiprocessorCount() { return d.multiprocessorCount(); }
        @Override public CudaDevices.MemInfo memInfo() { return d.memInfo(); }
        @Override public long alloc(long bytes) { return d.alloc(bytes); }
        @Override public void free(long address) { d.free(address); }
        @Override public void copyToDevice(long dst, MemorySegment src) { d.copyToDevice(dst, src); }
        @Override public void copyToHost(MemorySegment dst, long src) { d.copyToHost(dst, src); }
        @Override public void copyDeviceToDevice(long dst, long src, long bytes) { d.copyDeviceToDevice(dst, src, bytes); }
        @Override public void memsetD32(long dst, int value, long count) { d.memsetD32(dst, value, count); }
        @Override public GpuModule loadModule(String name, String source) { return d.loadModule(name, source); }
        @Override public void launch(GpuFunction f, Dim3 grid, Dim3 block, long[] args) { d.launch(f, grid, block, args); }
        @Override public void synchronize() { d.synchronize(); }
        @Override public void close() {}
    }

    // ---------------------------------------------------------------------------------------------------------------

    public static void main(String[] args) throws Exception {
        Map<String, String> o = parse(args);
        Path json = Path.of(o.getOrDefault("json", "gpu-bench.json"));
        Settings s = o.containsKey("smoke") ? Settings.smoke() : Settings.gpu();
        if (o.containsKey("layers") || o.containsKey("base-layers")) {
            s = s.withLayers(Integer.parseInt(o.getOrDefault("layers", "" + s.syntheticLayers())),
                    Integer.parseInt(o.getOrDefault("base-layers", "" + s.baseLayers())));
        }
        if (o.containsKey("budget-s")) s = s.withBudget(Double.parseDouble(o.get("budget-s")));
        Path work = Path.of(o.getOrDefault("work", System.getProperty("java.io.tmpdir") + "/paddock-gpu-check"));
        String kind = o.getOrDefault("device", "auto");
        Sink sink = r -> write(json, r);

        GpuDevice device;
        if (kind.equals("sim")) {
            device = simulated();
        } else {
            Optional<String> why = CudaDevices.unavailableReason();
            if (why.isPresent()) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("device", null);
                r.put("unavailable", why.get());
                r.put("settings", settingsJson(s));
                write(json, r);
                System.out.println("gpu-bench: no device: " + why.get() + " (wrote " + json + ")");
                return;
            }
            device = JCudaDevice.open(CudaOptions.fromSystemProperties());
        }
        List<E2eModel> models = new ArrayList<>();
        Path stories = Path.of(o.getOrDefault("stories", System.getProperty("paddock.shared.models", "../shared/models")
                + "/stories260K"));
        models.add(E2eModel.fixture("stories260K", stories, GptqOverrides.NONE));
        SyntheticSpec spec = new SyntheticSpec(s.syntheticShape(), s.syntheticLayers(), SyntheticSpec.Format.GPTQ, s.bits(),
                s.groupSize(), true, 0);
        models.add(E2eModel.synthetic(spec, work.resolve(s.syntheticShape().name() + "-gptq" + s.bits() + "-g"
                + s.groupSize() + "-actorder-" + s.syntheticLayers() + "l")));
        Map<String, Object> r;
        try (device) {
            r = run(device, s, models, sink, System.out);
            write(json, r);
            System.out.println("gpu-bench: wrote " + json + " in " + r.get("elapsedSeconds") + " s");
        }
        if (!((List<?>) r.get("errors")).isEmpty()) System.exit(2);
    }

    private static GpuDevice simulated() throws Exception {
        // Reflection keeps the sim package out of this class's imports: the GPU bundle runs without a compiler.
        Class<?> settings = Class.forName("io.paddock.runtime.cuda.sim.SimSettings");
        Object h100 = settings.getMethod("h100_80gb").invoke(null);
        return (GpuDevice) Class.forName("io.paddock.runtime.cuda.sim.SimulatedDevice").getConstructor(settings).newInstance(h100);
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) throw new IllegalArgumentException("unexpected argument " + args[i]);
            String name = args[i].substring(2);
            if (name.equals("smoke")) o.put(name, "true");
            else if (i + 1 < args.length) o.put(name, args[++i]);
            else throw new IllegalArgumentException("--" + name + " needs a value");
        }
        return o;
    }

    static void write(Path json, Map<String, Object> result) {
        try {
            Path parent = json.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = parent.resolve(json.getFileName() + ".tmp");
            JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), result);
            Files.move(tmp, json, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
