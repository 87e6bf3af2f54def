package io.paddock.bench;

import io.paddock.engine.AdapterRegistry;
import io.paddock.engine.EngineConfig;
import io.paddock.engine.EngineCore;
import io.paddock.engine.EngineObserver;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.LoraConfig;
import io.paddock.loading.LoadedModel;
import io.paddock.loading.ModelCatalog;
import io.paddock.lora.LoraModule;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaConfig;
import io.paddock.sampling.SamplingParams;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code paddock bench lora --model DIR}: what serving LoRA adapters unmerged costs. {@code --concurrency} streams
 * decode together through the real engine in three modes, rounds interleaved so the machine's drift hits all alike:
 * every stream on the bare base; every stream on one adapter; the streams spread evenly over {@code --adapters}
 * different adapters (one step mixing them all). Adapters are seeded random, rank {@code --rank} on all seven
 * linear layers of every decoder layer (QLoRA's layout). A first round of each mode warms the JIT up and is not
 * counted. Reports the median tokens/s per mode and its ratio to the base.
 */
public final class LoraBench {
    private LoraBench() {}

    public record Options(String model, int threads, int adapters, int rank, int concurrency, int tokens,
            int promptTokens, double seconds, GptqOverrides gptq) {}

    record Mode(String name, int adapters) {}

    public static int run(Options o, PrintStream out, PrintStream err) {
        List<Mode> modes = List.of(new Mode("base", 0), new Mode("1 adapter", 1),
                new Mode(o.adapters() + " adapters", o.adapters()));
        Map<Mode, List<Double>> stepMs = new LinkedHashMap<>();
        modes.forEach(m -> stepMs.put(m, new ArrayList<>()));
        try (LoadedModel model = ModelCatalog.open(o.model(), o.threads(), o.gptq(), "cpu", err)) {
            LlamaConfig c = model.checkpoint().config();
            if (o.promptTokens() + o.tokens() > c.maxPositionEmbeddings()) {
                throw new ModelBench.BadOptions("--prompt-tokens + --tokens exceed the context length " + c.maxPositionEmbeddings());
            }
            model.warmUp();
            AdapterRegistry registry = new AdapterRegistry(new LoraConfig(o.adapters(), o.rank(), o.adapters()),
                    (name, dir) -> { throw new IllegalStateException("synthetic adapters only"); });
            long adapterBytes = 0;
            for (int i = 0; i < o.adapters(); i++) {
                var a = SyntheticAdapter.random("lora-" + i, c, o.rank(), 2.0 * o.rank(),
                        EnumSet.allOf(LoraModule.class), 0.02, 100 + i);
                adapterBytes = a.bytes();
                registry.add(a.name(), a);
            }
            int conc = o.concurrency();
            EngineConfig cfg = new EngineConfig(16, 0, conc, Math.max(512, conc * o.promptTokens()), false, conc);
            try (EngineCore engine = new EngineCore(model, cfg, EngineObserver.NONE, registry)) {
                long end = -1;
                int round = 0;
                while (end < 0 || System.nanoTime() < end || stepMs.get(modes.getLast()).size() < 3) {
                    if (round == 1) end = System.nanoTime() + (long) (o.seconds() * 1e9); // round 0 warms the JIT up
                    for (Mode m : modes) {
                        DecodeWindow w = new DecodeWindow(conc, engine::stats);
                        for (int s = 0; s < conc; s++) {
                            int[] prompt = new int[o.promptTokens()];
                            for (int i = 0; i < prompt.length; i++) {
                                prompt[i] = 3 + (i * 7 + s * 13 + round) % (c.vocabSize() - 3);
                            }
                            String adapter = m.adapters() == 0 ? null : "lora-" + (s % m.adapters());
                            engine.submit(new GenerationRequest(prompt, o.tokens() + 1, SamplingParams.greedy(),
                                    List.of(), true, GenerationRequest.ANONYMOUS, adapter), w.listener(s));
                        }
                        w.await();
                        if (round > 0) stepMs.get(m).add(w.msPerStep());
                    }
                    round++;
                }
            }
            out.printf(Locale.ROOT, "model %s, %d thread(s), %d streams, adapters of rank %d on all 7 linears "
                    + "(%.1f MB each as fp32), decode from position %d%n", model.id(), o.threads(), conc, o.rank(),
                    adapterBytes / 1e6, o.promptTokens());
            out.printf(Locale.ROOT, "%-12s %10s %9s %8s %7s%n", "mode", "tokens/s", "ms/step", "vs base", "rounds");
            double base = Stats.median(stepMs.get(modes.getFirst()));
            for (Mode m : modes) {
                double ms = Stats.median(stepMs.get(m));
                out.printf(Locale.ROOT, "%-12s %10.2f %9.2f %7.1f%% %7d%n", m.name(), conc * 1000.0 / ms, ms,
                        100 * base / ms, stepMs.get(m).size());
            }
        }
        return 0;
    }
}
