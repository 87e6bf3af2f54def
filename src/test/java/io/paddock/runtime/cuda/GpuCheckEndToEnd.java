package io.paddock.runtime.cuda;

import static io.paddock.runtime.cuda.GpuCheckBench.round;

import io.paddock.bench.SyntheticCheckpoint;
import io.paddock.bench.SyntheticShape;
import io.paddock.bench.SyntheticSpec;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.runtime.StepChunk;
import io.paddock.runtime.cuda.GpuCheckBench.Run;
import io.paddock.runtime.cuda.GpuCheckBench.Settings;
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
import java.util.stream.Stream;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The {@code endToEnd} section of {@link GpuCheckBench}: {@link CudaRuntime#forward} decode tokens/s at batches
 * 1/8/32 (every step returns the logits to the host, as serving does) and prefill tokens/s of a
 * {@link Settings#prefillTokens}-token prompt on stories260K and a synthetic LLaMA-7B-shaped GPTQ model (4-bit g128
 * act-order) with {@link Settings#syntheticLayers} layers; where {@link Settings#baseLayers} is set, the same
 * checkpoint cut to that many layers ({@link #cutLayers}) is measured too and the full depth (32 layers) estimated
 * from the per-layer difference. Budget checks, skips and publishing go through the {@link Run} it belongs to.
 */
final class GpuCheckEndToEnd {
    /** A model for the end-to-end section: a fixture folder, or a synthetic checkpoint written on first use. */
    record E2eModel(String label, Path dir, GptqOverrides overrides, SyntheticSpec synthetic) {
        static E2eModel fixture(String label, Path dir, GptqOverrides overrides) {
            return new E2eModel(label, dir, overrides, null);
        }

        static E2eModel synthetic(SyntheticSpec spec, Path dir) {
            return new E2eModel("synthetic " + spec.describe(), dir, GptqOverrides.NONE, spec);
        }
    }

    private final Run run;
    private final GpuDevice device;
    private final Settings s;
    private final PrintStream log;

    GpuCheckEndToEnd(Run run) {
        this.run = run;
        this.device = run.device;
        this.s = run.s;
        this.log = run.log;
    }

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
            if (!run.fits("end to end " + m.label(), need)) return;
            if (!Files.isRegularFile(dir.resolve(SyntheticCheckpoint.WEIGHTS))) {
                long t0 = System.nanoTime();
                SyntheticCheckpoint.write(spec, dir);
                e.put("writeSeconds", round((System.nanoTime() - t0) / 1e9));
            }
        } else if (!Files.isDirectory(dir)) {
            run.skipped.add("end to end " + m.label() + ": " + dir + " not found");
            return;
        } else if (!run.fits("end to end " + m.label(), 5)) {
            return;
        }
        into.add(e);
        Map<String, Object> full = measure(dir, m.overrides(), e);
        if (m.synthetic() != null && s.baseLayers() > 0 && s.baseLayers() < m.synthetic().layers()
                && m.synthetic().layers() < m.synthetic().shape().layers()
                && run.fits("end to end " + m.label() + " cut to " + s.baseLayers() + " layers", 10)) {
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
                run.publish();
            }
            e.put("prefill", prefill(rt));
        }
        return e;
    }

    Map<String, Object> decode(CudaRuntime rt, int batch) {
        int vocab = rt.config().vocabSize(), block = 16;
        int prompt = Math.max(1, Math.min(s.promptTokens(), CudaRuntime.DEFAULT_MAX_ROWS / batch));
        // Room for the timed steps twice: with graphs, the same number again launch by launch.
        int perSeq = Math.ceilDiv(prompt + s.warmupSteps() + 2 * s.decodeSteps(), block);
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
            d.put("graphs", rt.graphs() != null);
            d.put("msPerStep", round(secs * 1e3 / s.decodeSteps()));
            d.put("tokensPerSecond", round(batch * s.decodeSteps() / secs));
            log.printf(Locale.ROOT, "gpu-bench:   decode batch %2d: %8.1f tok/s (%.3f ms/step)%s%n", batch,
                    batch * s.decodeSteps() / secs, secs * 1e3 / s.decodeSteps(), rt.graphs() != null ? ", graphs" : "");
            if (rt.graphs() != null) {
                // The same steps launch by launch, continuing the sequences (positions differ by decodeSteps only).
                rt.useGraphs(false);
                try {
                    long t1 = System.nanoTime();
                    for (int i = 0; i < s.decodeSteps(); i++, p++) rt.forward(kv, step(tables, p, vocab));
                    double eager = (System.nanoTime() - t1) / 1e9;
                    d.put("eagerMsPerStep", round(eager * 1e3 / s.decodeSteps()));
                    d.put("eagerTokensPerSecond", round(batch * s.decodeSteps() / eager));
                    log.printf(Locale.ROOT, "gpu-bench:   decode batch %2d: %8.1f tok/s (%.3f ms/step) without graphs%n",
                            batch, batch * s.decodeSteps() / eager, eager * 1e3 / s.decodeSteps());
                } finally {
                    rt.useGraphs(true);
                }
            }
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

    // ---------------------------------------------------------------------------------------------------------------

    private static int token(int i, int vocab) {
        return 1 + Math.floorMod(i, vocab - 1);
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

    /** Hands the runtimes a device they cannot close, so one device serves every model in turn. */
    static final class Unclosed extends ForwardingGpuDevice {
        Unclosed(GpuDevice d) {
            super(d);
        }

        @Override public void close() {}
    }
}
