package io.paddock.bench;

import io.paddock.cli.CliArgs;
import io.paddock.engine.LoadedModel;
import io.paddock.engine.ModelCatalog;
import io.paddock.model.LlamaConfig;
import io.paddock.runtime.cpu.CpuLlama;
import io.paddock.runtime.cpu.PagedKvStore;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code paddock bench --model DIR}: decode tokens/s of a model against the bandwidth ceiling measured in the same
 * run. Batch 1 reads every weight once per token, so the ceiling is read bandwidth ÷ bytes read per token (weights,
 * scales/zeros and the KV cache at the measured positions). With {@code --concurrency 1,4,16} it also runs that many
 * sequences decoding together, one batched forward pass per step, and reports aggregate tokens/s.
 */
public final class ModelBench {
    private ModelBench() {}

    record Level(int concurrency, double tokensPerSecond, double msPerStep, long bytesPerStep,
            double bandwidthGbs, double ceilingTokensPerSecond, double fraction, int samples) {}

    public static int run(String[] argv, PrintStream out, PrintStream err) {
        CliArgs a = new CliArgs(argv, CliArgs.union(CliArgs.GPTQ_VALUED, Set.of("model", "threads", "tokens",
                "prompt-tokens", "concurrency", "seconds", "bandwidth-mb")), CliArgs.union(CliArgs.GPTQ_FLAGS, Set.of("json")));
        String dir = a.string("model", null);
        if (dir == null) throw new CliArgs.UsageException("bench needs --model DIR (or: bench matvec)");
        int threads = a.integer("threads", Runtime.getRuntime().availableProcessors());
        int steps = a.integer("tokens", 16);
        int promptTokens = a.integer("prompt-tokens", 16);
        double seconds = a.decimal("seconds", 10f);
        List<Integer> levels = new ArrayList<>();
        for (String s : a.string("concurrency", "1").split(",")) {
            try {
                levels.add(Integer.parseInt(s.trim()));
            } catch (NumberFormatException e) {
                throw new CliArgs.UsageException("--concurrency expects a list like 1,4,16, got '" + s + "'");
            }
        }
        if (steps < 1 || promptTokens < 1 || levels.stream().anyMatch(c -> c < 1)) {
            throw new CliArgs.UsageException("--tokens, --prompt-tokens and --concurrency must be >= 1");
        }
        try (LoadedModel model = ModelCatalog.open(dir, threads, a.gptqOverrides(), err);
             BandwidthProbe probe = new BandwidthProbe(model.parallel(), a.integer("bandwidth-mb", 512) * (1L << 20))) {
            LlamaConfig c = model.checkpoint().config();
            if (promptTokens + steps > c.maxPositionEmbeddings()) {
                throw new CliArgs.UsageException("--prompt-tokens + --tokens exceed the context length " + c.maxPositionEmbeddings());
            }
            long weightBytes = model.checkpoint().weights().bytesPerToken();
            model.warmUp();
            List<Level> results = new ArrayList<>();
            for (int conc : levels) results.add(measure(model, probe, conc, promptTokens, steps, seconds, weightBytes, err));
            if (a.flag("json")) {
                out.println(json(model, threads, weightBytes, results));
            } else {
                out.printf(Locale.ROOT, "model %s, %d thread(s), %.2f GB of weights read per step, decode from position %d%n",
                        model.id(), threads, weightBytes / 1e9, promptTokens);
                out.printf(Locale.ROOT, "%6s %10s %9s %10s %9s %10s %8s %7s%n", "conc", "tokens/s", "ms/step",
                        "MB/step", "bw GB/s", "ceiling", "fraction", "samples");
                for (Level l : results) {
                    out.printf(Locale.ROOT, "%6d %10.2f %9.2f %10.1f %9.1f %10.2f %7.0f%% %7d%n", l.concurrency(),
                            l.tokensPerSecond(), l.msPerStep(), l.bytesPerStep() / 1e6, l.bandwidthGbs(),
                            l.ceilingTokensPerSecond(), 100 * l.fraction(), l.samples());
                }
            }
        }
        return 0;
    }

    /** Alternates bandwidth probes with runs of {@code steps} batched decode steps; medians of each. */
    private static Level measure(LoadedModel model, BandwidthProbe probe, int conc, int promptTokens, int steps,
            double seconds, long weightBytes, PrintStream err) {
        LlamaConfig c = model.checkpoint().config();
        CpuLlama llama = model.runtime();
        int blockSize = 16, perSeq = Math.ceilDiv(promptTokens + steps, blockSize);
        PagedKvStore kv = llama.newKvStore(perSeq * conc, blockSize);
        int[][] tables = new int[conc][perSeq];
        for (int s = 0; s < conc; s++) for (int b = 0; b < perSeq; b++) tables[s][b] = s * perSeq + b;
        // KV bytes read per step: each sequence reads its cache at the average position of the run.
        long kvBytes = (long) conc * PagedKvStore.bytesPerToken(c.numLayers(), c.numKvHeads() * c.headDim())
                * (promptTokens + steps / 2);
        long bytesPerStep = weightBytes + kvBytes;
        List<Double> bw = new ArrayList<>(), stepMs = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        int token = Math.min(3, c.vocabSize() - 1);
        while (System.nanoTime() < end || stepMs.size() < 3) {
            List<CpuLlama.Chunk> prefill = new ArrayList<>();
            int[] prompt = new int[promptTokens];
            java.util.Arrays.fill(prompt, token);
            for (int s = 0; s < conc; s++) prefill.add(new CpuLlama.Chunk(tables[s], prompt, 0, true));
            llama.forward(kv, prefill);
            bw.add(probe.measureGbs());
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                List<CpuLlama.Chunk> step = new ArrayList<>(conc);
                for (int s = 0; s < conc; s++) step.add(new CpuLlama.Chunk(tables[s], new int[] {token}, promptTokens + i, true));
                llama.forward(kv, step);
            }
            stepMs.add((System.nanoTime() - t0) / 1e6 / steps);
            if (stepMs.getLast() * steps > 1000) { // progress for big models only; small ones take thousands of samples
                err.printf(Locale.ROOT, "  concurrency %d: %.2f ms/step, bandwidth %.1f GB/s%n", conc, stepMs.getLast(), bw.getLast());
            }
        }
        double ms = median(stepMs), gbs = median(bw);
        double tps = conc * 1000.0 / ms;
        // The ceiling counts the weights once per step, as a batched step reads them once for all sequences.
        double ceiling = conc * gbs * 1e9 / bytesPerStep;
        return new Level(conc, tps, ms, bytesPerStep, gbs, ceiling, tps / ceiling, stepMs.size());
    }

    private static String json(LoadedModel model, int threads, long weightBytes, List<Level> levels) {
        Level first = levels.getFirst();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("model", model.id());
        o.put("threads", threads);
        o.put("tokens_per_second", first.tokensPerSecond());
        o.put("bytes_per_token", first.bytesPerStep());
        o.put("weight_bytes_per_step", weightBytes);
        o.put("read_bandwidth_gb_s", first.bandwidthGbs());
        o.put("ceiling_tokens_per_second", first.ceilingTokensPerSecond());
        o.put("fraction", first.fraction());
        List<Map<String, Object>> lv = new ArrayList<>();
        for (Level l : levels) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("concurrency", l.concurrency());
            m.put("tokens_per_second", l.tokensPerSecond());
            m.put("ms_per_step", l.msPerStep());
            m.put("bytes_per_step", l.bytesPerStep());
            m.put("read_bandwidth_gb_s", l.bandwidthGbs());
            m.put("ceiling_tokens_per_second", l.ceilingTokensPerSecond());
            m.put("fraction", l.fraction());
            lv.add(m);
        }
        o.put("levels", lv);
        return JsonMapper.builder().build().writeValueAsString(o);
    }

    private static double median(List<Double> v) {
        double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
