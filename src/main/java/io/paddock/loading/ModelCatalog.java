package io.paddock.loading;

import io.paddock.hub.HubPuller;
import io.paddock.hub.HubRef;
import io.paddock.hub.HubSettings;
import io.paddock.hub.PullProgress;
import io.paddock.model.DemoModel;
import io.paddock.model.GptqOverrides;
import io.paddock.runtime.cpu.PreparedCache;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * Resolves what to serve: a model directory given by the user, a hub model ({@code ORG/NAME[:REVISION]}, from the hub
 * cache or pulled into it), or the embedded demo model.
 */
public final class ModelCatalog {
    private ModelCatalog() {}

    /** Where generated artefacts (the demo model) are cached; {@code PADDOCK_CACHE} overrides. */
    public static Path cacheRoot() {
        String env = System.getenv("PADDOCK_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("java.io.tmpdir"), "paddock-cache");
    }

    /** The setting naming the prepared-weights cache: a directory, or {@code off}. */
    public static final String PREPARED_CACHE_PROPERTY = "paddock.model.prepared-cache";

    /**
     * The prepared-weights cache for {@code setting} (a directory or {@code off}); blank means the Java system property
     * {@value #PREPARED_CACHE_PROPERTY}, else the {@code PADDOCK_PREPARED_CACHE} environment variable, else
     * {@code <cache root>/prepared}.
     */
    public static PreparedCache preparedCache(String setting, PrintStream log) {
        String s = setting;
        if (s == null || s.isBlank()) s = System.getProperty(PREPARED_CACHE_PROPERTY);
        if (s == null || s.isBlank()) s = System.getenv("PADDOCK_PREPARED_CACHE");
        if (s == null || s.isBlank()) return PreparedCache.at(cacheRoot().resolve("prepared"), log);
        if (s.trim().equalsIgnoreCase("off")) return PreparedCache.OFF;
        return PreparedCache.at(Path.of(s.trim()), log);
    }

    /**
     * Opens {@code modelDir}, or the demo model when it is null or blank.
     * The model id is the directory's name, as clients will send it in the {@code model} field.
     */
    public static LoadedModel open(String modelDir, int threads, PrintStream log) {
        return open(modelDir, threads, GptqOverrides.NONE, log);
    }

    /** As {@link #open(String, int, PrintStream)}, with GPTQ settings for legacy checkpoints. */
    public static LoadedModel open(String modelDir, int threads, GptqOverrides gptq, PrintStream log) {
        return open(modelDir, threads, gptq, "cpu", log);
    }

    /** As above, on the backend {@code runtimeMode} selects ({@code auto}, {@code cpu} or {@code cuda}). */
    public static LoadedModel open(String modelDir, int threads, GptqOverrides gptq, String runtimeMode, PrintStream log) {
        return open(modelDir, threads, gptq, runtimeMode, log, HubSettings::fromEnvironment);
    }

    /**
     * As above, with the hub settings given (the environment's by default). An existing directory is always a directory;
     * {@code ORG/NAME[:REVISION]} that is no path is a hub model, served under that name.
     */
    public static LoadedModel open(String modelDir, int threads, GptqOverrides gptq, String runtimeMode, PrintStream log,
            Supplier<HubSettings> hub) {
        return open(modelDir, threads, gptq, runtimeMode, log, hub, null);
    }

    /** As above, with the prepared-weights cache setting ({@link #preparedCache}; null: the default). */
    public static LoadedModel open(String modelDir, int threads, GptqOverrides gptq, String runtimeMode, PrintStream log,
            Supplier<HubSettings> hub, String preparedCache) {
        PreparedCache cache = preparedCache(preparedCache, log);
        if (HubRef.isHubModel(modelDir)) {
            HubRef ref = HubRef.parse(modelDir);
            Path snapshot = new HubPuller(hub.get(), PullProgress.forStream(log, PullProgress.onTerminal())).resolve(ref);
            log.println(ref + ": " + snapshot);
            return LoadedModel.load(ref.toString(), "LLaMA-family model " + ref + " from the Hugging Face hub cache ("
                    + snapshot.getFileName() + ")", snapshot, threads, gptq, runtimeMode, log, cache);
        }
        if (modelDir == null || modelDir.isBlank()) {
            log.println("no model configured: serving the embedded demo model (random weights, meaningless"
                    + " output); use --model DIR to serve a real model");
            Path dir = DemoModel.materialize(cacheRoot());
            return LoadedModel.load(DemoModel.ID, DemoModel.DESCRIPTION, dir, threads, GptqOverrides.NONE, runtimeMode, log, cache);
        }
        Path dir = Path.of(modelDir).toAbsolutePath().normalize();
        String id = dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
        return LoadedModel.load(id, "LLaMA-family model loaded from " + dir, dir, threads, gptq, runtimeMode, log, cache);
    }
}
