package io.paddock.engine;

import io.paddock.lora.LoraAdapter;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A LoRA adapter an engine serves under a name: where it is read from, its weights while the host-side cache holds
 * them, the requests in flight with it, and its KV cache salt — unique per load, so KV computed under it is never
 * shared with another adapter, the bare base, or a later adapter loaded under the same name. Thread-safe.
 */
public final class ServedAdapter {
    private static final AtomicLong SALTS = new AtomicLong();

    private final String name;
    private final Path dir;
    private final long salt = SALTS.incrementAndGet();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private LoraAdapter weights; // null while evicted from the host cache
    private int inFlight;
    private boolean retiring;
    long lastUsed;               // the host cache's LRU clock, under the registry's lock

    ServedAdapter(String name, Path dir, LoraAdapter weights) {
        this.name = name;
        this.dir = dir;
        this.weights = weights;
    }

    public String name() { return name; }

    /** The directory it was read from (null for one built in memory). */
    public Path dir() { return dir; }

    /** The KV cache salt of its sequences: > 0, never reused. */
    public long salt() { return salt; }

    public synchronized int inFlight() { return inFlight; }

    public synchronized boolean retiring() { return retiring; }

    /** Takes one more request unless the adapter is being unloaded. */
    synchronized boolean acquire() {
        if (retiring) return false;
        inFlight++;
        return true;
    }

    /** One request with it finished (or was refused after {@link #acquire}). */
    void release() {
        boolean done;
        synchronized (this) {
            if (inFlight <= 0) throw new IllegalStateException("adapter '" + name + "' released more often than taken");
            done = --inFlight == 0 && retiring;
        }
        if (done) drained.complete(null);
    }

    /** Takes no new requests from now on; the future completes when the last one in flight finishes. */
    CompletableFuture<Void> retire() {
        boolean done;
        synchronized (this) {
            retiring = true;
            done = inFlight == 0;
        }
        if (done) drained.complete(null);
        return drained;
    }

    synchronized LoraAdapter cachedWeights() { return weights; }

    synchronized void cache(LoraAdapter w) { this.weights = w; }

    @Override
    public String toString() {
        return "adapter '" + name + "'";
    }
}
