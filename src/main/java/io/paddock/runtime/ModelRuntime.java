package io.paddock.runtime;

import io.paddock.lora.LoraAdapter;
import io.paddock.model.LlamaConfig;
import java.util.List;
import java.util.Optional;

/**
 * A backend that owns a model's device-side weights and KV memory and runs one batched forward pass per step.
 * The engine (scheduler, block tables, sampling) is the same for every backend; only this interface differs.
 * Not thread-safe: the engine thread owns it.
 */
public interface ModelRuntime extends AutoCloseable {

    LlamaConfig config();

    /** A short name for logs and metrics, e.g. "cpu" or "cuda". */
    String name();

    /** Bytes one cached token takes in this runtime's KV memory (keys and values, all layers). */
    long kvBytesPerToken();

    /**
     * KV memory to use when the configuration sets no budget: what this backend can spare after its weights
     * (on the CPU half of the physical memory still available after the weights; most of the free device memory on
     * a GPU).
     */
    long defaultKvBudgetBytes();

    /**
     * Chooses the KV cache's element type ({@code paddock.engine.kv-cache-dtype}); called once, before the pool is
     * sized, so {@link #kvBytesPerToken()} and {@link #newKvStore} follow it. AUTO lets the runtime choose. This
     * default keeps fp32 and refuses anything else, naming the setting.
     */
    default void useKvCacheDtype(KvCacheDtype requested) {
        if (requested != KvCacheDtype.AUTO && requested != KvCacheDtype.F32) {
            throw new IllegalStateException("the " + name() + " runtime keeps its KV cache in f32; "
                    + "paddock.engine.kv-cache-dtype=" + requested.label() + " is not supported here (use auto or f32)");
        }
    }

    /** The KV cache's element type in force. */
    default KvCacheDtype kvCacheDtype() {
        return KvCacheDtype.F32;
    }

    /**
     * Prepares for steps of up to {@code maxRows} rows from up to {@code maxSeqs} sequences over KV blocks of
     * {@code blockSize} tokens; called once before the KV pool is sized, so a backend that needs per-step buffers (a
     * GPU's step scratch) takes them first and plans the pool around them, failing here, with the arithmetic, where
     * the model cannot run. A step beyond the reserved limits is a caller bug.
     */
    default void reserveStep(int maxRows, int maxSeqs, int blockSize) {}

    /**
     * Bytes this runtime's model weights take where it computes from them (host memory or the device): what the
     * {@code paddock_model_weights_bytes} metric shows. Both backends report it; 0 is for test doubles that wrap one.
     */
    default long weightsBytes() {
        return 0;
    }

    /**
     * The accelerator's memory now and this runtime's share of it, for metrics; empty on the CPU. Called on the
     * engine thread, like every other method here (a device context may be bound to it); may ask the driver, so
     * callers sample it rather than call it per step.
     */
    default Optional<DeviceMemoryReport> deviceMemory() {
        return Optional.empty();
    }

    /**
     * Prepares {@code slots} LoRA adapter slots (numbered 1..slots) for adapters of rank up to {@code maxRank}; called
     * once, after {@link #reserveStep} and before the KV pool is sized, so a GPU takes the slots' memory first. Zero
     * slots (the default) serve the base model only. A backend without LoRA support refuses any slot.
     */
    default void reserveAdapters(int slots, int maxRank) {
        if (slots > 0) throw new UnsupportedOperationException("the " + name() + " runtime does not serve LoRA adapters");
    }

    /**
     * Puts {@code adapter} into {@code slot} (1..slots reserved), replacing the one there; from the next step, chunks
     * with that {@link StepChunk#adapterSlot} run with it. Fails where the adapter does not fit the model or the
     * reserved rank, naming the layer and shapes.
     */
    default void loadAdapter(int slot, LoraAdapter adapter) {
        throw new UnsupportedOperationException("the " + name() + " runtime does not serve LoRA adapters");
    }

    /** Empties {@code slot}; a step that names an empty slot is a caller bug. */
    default void unloadAdapter(int slot) {}

    /** Allocates KV memory for {@code numBlocks} blocks of {@code blockSize} tokens, once. */
    KvStore newKvStore(int numBlocks, int blockSize);

    /**
     * One step over a batch of chunks; returns per chunk the logits (vocab) of its last row, or null where the chunk
     * did not ask for them.
     */
    float[][] forward(KvStore kv, List<StepChunk> chunks);

    @Override
    void close();
}
