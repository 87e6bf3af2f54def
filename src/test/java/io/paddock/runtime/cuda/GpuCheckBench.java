package io.paddock.runtime.cuda;

import io.paddock.bench.SyntheticShape;
import io.paddock.bench.SyntheticSpec;
import io.paddock.model.GptqOverrides;
import io.paddock.runtime.cuda.GpuCheckEndToEnd.E2eModel;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.json.JsonMapper;

/**
 * The GPU benchmarks of scripts/gpu-check, on any {@link GpuDevice}: the real one there ({@link JCudaDevice}), the
 * simulated one in {@code GpuBenchSmokeTests} (tiny sizes, so this code cannot rot between GPU sessions).
 *
 * <ol>
 *   <li><b>copy</b>: device-to-device copy bandwidth, the reference every kernel figure is held against, and</li>
 *   <li><b>kernels</b>: µs and GB/s per call of {@link CudaKernels}' GPTQ, dense and paged-attention launchers on
 *       LLaMA-7B shapes — both in {@link GpuCheckKernels};</li>
 *   <li><b>endToEnd</b>: {@link CudaRuntime#forward} decode and prefill tokens/s on stories260K and a synthetic
 *       LLaMA-7B-shaped GPTQ model, with a full-depth estimate from a cut copy — in {@link GpuCheckEndToEnd}.</li>
 * </ol>
 * This class holds what they share: the command line, {@link Settings}, opening the device, the {@link Run} that
 * orders the sections, keeps the budget and the record of skips and errors, and the JSON helpers. Results go into
 * one JSON object ({@link #run}), rewritten after every section so a run killed for time still leaves what it
 * measured; {@code GpuCheckReport} renders it. Sections that would overrun {@link Settings#budgetSeconds} are
 * skipped and say so.
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
                    new int[] {1, 4, 8, 16, 32},
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

    /** One run's state, shared by the sections: the device, settings, log, the growing result and its budget. */
    static final class Run {
        final GpuDevice device;
        final Settings s;
        final Sink sink;
        final PrintStream log;
        final long start = System.nanoTime();
        final Map<String, Object> result = new LinkedHashMap<>();
        final List<String> skipped = new ArrayList<>();
        final List<String> errors = new ArrayList<>();

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
            GpuCheckKernels kernels = new GpuCheckKernels(this);
            try {
                result.put("copy", kernels.copy());
            } catch (RuntimeException | Error e) {
                error("copy bandwidth", e);
            }
            publish();
            try {
                result.put("kernels", kernels.kernels());
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
            GpuCheckEndToEnd endToEnd = new GpuCheckEndToEnd(this);
            for (E2eModel m : models) {
                try {
                    endToEnd.endToEnd(m, e2e);
                } catch (RuntimeException | Error e) {
                    error("end to end " + m.label(), e);
                }
                publish();
            }
            try {
                result.put("targets", GpuCheckTargets.evaluate(result, device.memInfo().totalBytes(), s.bits(),
                        s.groupSize(), s.promptTokens(), s.decodeSteps()));
            } catch (RuntimeException | Error e) {
                error("targets", e);
            }
            publish();
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

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
