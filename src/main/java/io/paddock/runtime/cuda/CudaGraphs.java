package io.paddock.runtime.cuda;

import io.paddock.runtime.StepChunk;
import io.paddock.runtime.cuda.GpuDevice.GpuGraph;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The decode-step graphs of a {@link CudaRuntime}: one captured graph per row count, least recently used first out
 * beyond {@code capacity}. A graph holds every launch and memset of a step's device work (embedding to lm_head) with
 * the addresses and scalars of its capture, so it is valid only while those stay what they were:
 *
 * <ul>
 *   <li>the step scratch, the weights and the KV store it was captured over (a step over another store recaptures;
 *       {@link #invalidate()} on {@code reserveStep} and adapter changes drops them all);</li>
 *   <li>every launcher's grid and scalar arguments are a function of the row count and the reserved limits only,
 *       and every per-step value (tokens, positions, block tables, table offsets) is read from a device buffer
 *       uploaded before {@link GpuDevice#launchGraph} (docs/gpu-runtime.md, "CUDA graphs").</li>
 * </ul>
 * Not thread-safe: the runtime's owner thread makes every call.
 */
final class CudaGraphs implements AutoCloseable {
    /** Cached graphs at most: one per decode batch size the engine runs, which its max-num-seqs bounds. */
    static final int DEFAULT_CAPACITY = 64;

    private final GpuDevice device;
    private final int capacity;
    private final LinkedHashMap<Integer, Entry> byRows = new LinkedHashMap<>(16, 0.75f, true);   // access order
    private long captures, replays, evictions;

    private record Entry(GpuGraph graph, CudaKvStore kv) {}

    CudaGraphs(GpuDevice device, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("graph capacity must be >= 1, got " + capacity);
        this.device = device;
        this.capacity = capacity;
    }

    /**
     * Whether a step may run as a graph: every chunk is exactly one token and wants its logits (so every row is a
     * wanted last row), and no row runs a LoRA adapter ({@code rowSlots} null).
     */
    static boolean decodeStep(List<StepChunk> chunks, int[] rowSlots) {
        if (rowSlots != null || chunks.isEmpty()) return false;
        for (StepChunk ch : chunks) {
            if (ch.tokens().length != 1 || !ch.wantLogits()) return false;
        }
        return true;
    }

    /**
     * Launches the graph of {@code rows} rows over {@code kv}, capturing {@code work} into it first where there is
     * none (or one over another KV store). {@code work} must issue launches and memsets only. A capture that fails
     * leaves no graph behind and the device out of capture.
     */
    void run(int rows, CudaKvStore kv, Runnable work) {
        Entry e = byRows.get(rows);
        if (e != null && e.kv() != kv) {
            byRows.remove(rows);
            e.graph().close();
            e = null;
        }
        if (e == null) {
            e = new Entry(capture(work), kv);
            byRows.put(rows, e);
            captures++;
            evict();
        } else {
            replays++;
        }
        device.launchGraph(e.graph());
    }

    private GpuGraph capture(Runnable work) {
        device.beginCapture();
        try {
            work.run();
        } catch (RuntimeException | Error t) {
            try {
                device.endCapture().close();
            } catch (RuntimeException suppressed) {
                t.addSuppressed(suppressed);
            }
            throw t;
        }
        return device.endCapture();
    }

    private void evict() {
        Iterator<Map.Entry<Integer, Entry>> it = byRows.entrySet().iterator();
        while (byRows.size() > capacity && it.hasNext()) {
            GpuGraph g = it.next().getValue().graph();
            it.remove();
            g.close();
            evictions++;
        }
    }

    /** Destroys every cached graph; the next decode step of each row count captures again. */
    void invalidate() {
        RuntimeException first = null;
        for (Entry e : byRows.values()) {
            try {
                e.graph().close();
            } catch (RuntimeException ex) {
                if (first == null) first = ex;
            }
        }
        byRows.clear();
        if (first != null) throw first;
    }

    /** Graphs cached now. */
    int size() {
        return byRows.size();
    }

    /** Whether a graph of {@code rows} rows is cached. */
    boolean has(int rows) {
        return byRows.containsKey(rows);
    }

    long captures() {
        return captures;
    }

    long replays() {
        return replays;
    }

    long evictions() {
        return evictions;
    }

    @Override
    public void close() {
        invalidate();
    }
}
