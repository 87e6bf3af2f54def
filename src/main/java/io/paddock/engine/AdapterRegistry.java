package io.paddock.engine;

import io.paddock.lora.LoraAdapter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The LoRA adapters one engine serves, by name, with a host-side cache of their weights: at most
 * {@code maxCpuLoras} adapters stay read (least recently used ones are dropped and read again from their directory
 * when a request needs them). Thread-safe: HTTP threads add, find and remove; the engine thread reads weights.
 */
public final class AdapterRegistry {
    /** Reads an adapter's directory for this engine's base model; throws with a message naming what is wrong. */
    @FunctionalInterface
    public interface Reader {
        LoraAdapter read(String name, Path dir);
    }

    private final LoraConfig config;
    private final Reader reader;
    private final Map<String, ServedAdapter> byName = new LinkedHashMap<>();
    private long clock;

    public AdapterRegistry(LoraConfig config, Reader reader) {
        this.config = Objects.requireNonNull(config);
        this.reader = Objects.requireNonNull(reader);
    }

    public LoraConfig config() { return config; }

    /**
     * Reads {@code dir} and serves it as {@code name}. Throws {@link IllegalArgumentException} for a name already
     * served, {@link IllegalStateException} where adapters are off, and the reader's exception for a bad adapter.
     */
    public ServedAdapter add(String name, Path dir) {
        checkAddable(name);
        return add(name, dir, reader.read(name, dir));
    }

    /** Serves adapter weights built in memory (tests, benchmarks). */
    public ServedAdapter add(String name, LoraAdapter weights) {
        checkAddable(name);
        return add(name, null, weights);
    }

    private synchronized ServedAdapter add(String name, Path dir, LoraAdapter weights) {
        checkAddable(name);
        if (weights.maxRank() > config.maxLoraRank()) {
            throw new IllegalArgumentException("adapter '" + name + "' has rank " + weights.maxRank()
                    + ", above the server's limit of " + config.maxLoraRank() + " (paddock.lora.max-rank)");
        }
        ServedAdapter a = new ServedAdapter(name, dir, weights);
        a.lastUsed = ++clock;
        byName.put(name, a);
        trimCache(a);
        return a;
    }

    private synchronized void checkAddable(String name) {
        if (!config.enabled()) {
            throw new IllegalStateException("LoRA adapters are off for this model (paddock.lora.max-loras is 0)");
        }
        if (name == null || name.isBlank()) throw new IllegalArgumentException("an adapter needs a name");
        if (byName.containsKey(name)) {
            throw new IllegalArgumentException("The lora adapter '" + name + "' has already been loaded.");
        }
    }

    /** The adapter served as {@code name}, unless it is being unloaded. */
    public synchronized Optional<ServedAdapter> find(String name) {
        ServedAdapter a = byName.get(name);
        return a == null || a.retiring() ? Optional.empty() : Optional.of(a);
    }

    /** Whether {@code name} is taken (also by an adapter still being unloaded). */
    public synchronized boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The adapters served now, in the order they were added. */
    public synchronized List<ServedAdapter> list() {
        List<ServedAdapter> out = new ArrayList<>();
        for (ServedAdapter a : byName.values()) if (!a.retiring()) out.add(a);
        return out;
    }

    /** Stops serving {@code name}; empty where no such adapter is served. The name is free once it has drained. */
    synchronized Optional<ServedAdapter> retire(String name) {
        ServedAdapter a = byName.get(name);
        if (a == null || a.retiring()) return Optional.empty();
        a.retire().thenRun(() -> forget(a));
        return Optional.of(a);
    }

    private synchronized void forget(ServedAdapter a) {
        byName.remove(a.name(), a);
    }

    /** The adapter's weights: from the host cache, or read again from its directory (engine thread). */
    LoraAdapter weights(ServedAdapter a) {
        LoraAdapter w = a.cachedWeights();
        if (w == null) {
            w = reader.read(a.name(), a.dir());
            a.cache(w);
        }
        synchronized (this) {
            a.lastUsed = ++clock;
            trimCache(a);
        }
        return w;
    }

    /** Drops the weights of the least recently used adapters beyond {@code maxCpuLoras} (never {@code keep}). */
    private void trimCache(ServedAdapter keep) {
        while (true) {
            ServedAdapter lru = null;
            int cached = 0;
            for (ServedAdapter a : byName.values()) {
                if (a.cachedWeights() == null) continue;
                cached++;
                if (a != keep && a.dir() != null && (lru == null || a.lastUsed < lru.lastUsed)) lru = a;
            }
            if (cached <= config.maxCpuLoras() || lru == null) return;
            lru.cache(null);
        }
    }
}
