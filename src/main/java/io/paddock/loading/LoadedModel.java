package io.paddock.loading;

import io.paddock.format.ModelLoadException;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.ModelRuntime;
import io.paddock.runtime.StepChunk;
import io.paddock.runtime.cpu.Parallel;
import io.paddock.runtime.cpu.PreparedCache;
import io.paddock.tokenizer.Tokenizer;
import io.paddock.tokenizer.TokenizerLoadException;
import io.paddock.tokenizer.Tokenizers;
import java.io.PrintStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A model ready to serve: checkpoint, tokenizer and the runtime its backend opened. {@code description} is shown
 * to users (e.g. that the embedded demo model's output is meaningless).
 */
public record LoadedModel(String id, String description, LlamaCheckpoint checkpoint, Tokenizer tokenizer,
        ModelRuntime runtime, Parallel parallel, Set<Integer> eosIds, boolean addBos) implements AutoCloseable {

    public static LoadedModel load(String id, String description, Path dir, int threads) {
        return load(id, description, dir, threads, GptqOverrides.NONE);
    }

    /** Loads {@code dir}; {@code gptq} supplies GPTQ settings for legacy checkpoints that carry none. */
    public static LoadedModel load(String id, String description, Path dir, int threads,
            GptqOverrides gptq) {
        return load(id, description, dir, threads, gptq, "cpu", System.err);
    }

    /**
     * Loads {@code dir} onto the backend {@code runtimeMode} picks: {@code cpu}, {@code cuda}, or {@code auto} (CUDA
     * where a usable device and driver exist, else the CPU); the choice and its reason go to {@code log}.
     */
    public static LoadedModel load(String id, String description, Path dir, int threads,
            GptqOverrides gptq, String runtimeMode, PrintStream log) {
        return load(id, description, dir, threads, gptq, runtimeMode, log, PreparedCache.OFF);
    }

    /** As above, the CPU backend preparing GPTQ layers through {@code preparedCache}. */
    public static LoadedModel load(String id, String description, Path dir, int threads,
            GptqOverrides gptq, String runtimeMode, PrintStream log, PreparedCache preparedCache) {
        long start = System.nanoTime();
        RuntimeSelection selection = BackendOpener.select(runtimeMode);
        int cpuThreads = selection.useCuda() ? 1 : threads;
        LoadedModel m = load(id, description, dir, gptq, cpuThreads, BackendOpener.backend(selection, preparedCache));
        long rss = residentBytes();
        log.println("model " + id + ": " + m.runtime().name() + " runtime"
                + selection.reason().map(r -> " (" + r + ")").orElse("")
                + String.format(Locale.ROOT, ", loaded in %.1f s", (System.nanoTime() - start) / 1e9)
                + (rss > 0 ? String.format(Locale.ROOT, ", RSS %.2f GB", rss / 1e9) : ""));
        return m;
    }

    /** This process's resident set (VmRSS, mapped weight pages included), or -1 where /proc does not say. */
    static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: no figure
        }
        return -1;
    }

    /** Opens a backend for a model's weights; {@code parallel} is the CPU worker pool the model owns. */
    @FunctionalInterface
    public interface Backend {
        ModelRuntime open(LlamaWeights weights, Parallel parallel);

        /** Opens the backend for a whole checkpoint (whose files identify the weights, e.g. for a cache). */
        default ModelRuntime open(LlamaCheckpoint checkpoint, Parallel parallel) {
            return open(checkpoint.weights(), parallel);
        }
    }

    /**
     * Loads {@code dir} onto the runtime {@code backend} opens (tests use it to put a model on a simulated GPU);
     * {@code threads} sizes the CPU worker pool the model owns.
     */
    public static LoadedModel load(String id, String description, Path dir, GptqOverrides gptq,
            int threads, Backend backend) {
        LlamaCheckpoint checkpoint = LlamaCheckpoint.open(dir, gptq);
        try {
            Tokenizer tokenizer;
            try {
                tokenizer = Tokenizers.load(dir);
            } catch (TokenizerLoadException e) {
                throw new ModelLoadException(e.getMessage(), e);
            }
            if (tokenizer.vocabSize() > checkpoint.config().vocabSize()) {
                throw new ModelLoadException(dir.resolve("config.json") + ": vocab_size "
                        + checkpoint.config().vocabSize() + " is smaller than the tokenizer's "
                        + tokenizer.vocabSize() + " pieces");
            }
            Set<Integer> eos = new LinkedHashSet<>(checkpoint.config().eosIds());
            eos.addAll(checkpoint.generationConfig().eosIds());
            if (eos.isEmpty()) eos.add(tokenizer.eosId());
            Parallel parallel = new Parallel(threads);
            ModelRuntime runtime;
            try {
                runtime = backend.open(checkpoint, parallel);
            } catch (RuntimeException e) {
                parallel.close();
                throw e;
            }
            return new LoadedModel(id, description, checkpoint, tokenizer, runtime, parallel, Set.copyOf(eos),
                    TokenizerSettings.addBos(dir));
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /**
     * Runs a short throw-away forward pass so the JIT compiles the Vector API kernels before the first request
     * (until then they run many times slower).
     */
    public void warmUp() {
        try (var kv = runtime.newKvStore(1, 4)) {
            int[] table = {0};
            int token = Math.min(tokenizer.bosId(), checkpoint.config().vocabSize() - 1);
            runtime.forward(kv, List.of(new StepChunk(table, new int[] {token, token}, 0, true)));
            runtime.forward(kv, List.of(new StepChunk(table, new int[] {token}, 2, true)));
        }
    }

    public int contextLength() {
        return checkpoint.config().maxPositionEmbeddings();
    }

    /** Prompt text to token ids, with BOS where the model's tokenizer config asks for it. */
    public int[] encodePrompt(String prompt) {
        return tokenizer.encode(prompt, addBos, false);
    }

    public List<Integer> eosList() {
        return List.copyOf(eosIds);
    }

    @Override
    public void close() {
        runtime.close();
        parallel.close();
        checkpoint.close();
    }
}
