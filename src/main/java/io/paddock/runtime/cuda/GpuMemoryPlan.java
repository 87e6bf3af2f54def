package io.paddock.runtime.cuda;

import io.paddock.model.LlamaConfig;
import io.paddock.runtime.KvCacheDtype;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How the device's memory is shared out, decided once at start-up from figures alone, before anything large is
 * allocated, so that a configuration that cannot run fails there with the arithmetic rather than with an
 * out-of-memory error mid-serving.
 *
 * <p>Rules: of the device's free memory the runtime uses {@link KvPolicy#utilization()} (0.90 by default, as
 * vLLM's gpu_memory_utilization; the rest absorbs cuMemAlloc rounding and whatever else lives in the process).
 * The weights and the step scratch, both fixed by the model and the step limits, are taken first; the KV pool gets
 * whole blocks from what remains: all of it, capped at {@code wantedSequences} full contexts, or exactly the
 * explicit budget where one is given. A pool that cannot hold one full context fails the plan, since a request
 * the model accepts could then never run.
 *
 * @param usableBytes  {@code floor(utilization · free)}
 * @param scratchBytes step scratch for {@link StepLimits#maxRows()} rows (see {@link GpuFootprint#scratchBytes}), with
 *                   fp16 KV the attention buffers too ({@link GpuFootprint#attentionScratchBytes})
 * @param adapterBytes LoRA adapter slots and their per-step buffers (see {@link GpuFootprint#adapterBytes}); 0
 *                   without slots
 * @param tableInts    the block-table ints that scratch holds (see {@link GpuFootprint#tableInts})
 * @param kvBlocks     KV blocks of {@link KvPolicy#blockSize()} tokens
 * @param kvBytes      {@code kvBlocks · blockSize · kvBytesPerToken} (in {@link KvPolicy#dtype()})
 */
public record GpuMemoryPlan(Device device, Model model, StepLimits step, Adapters adapters, KvPolicy kv,
        long usableBytes, long scratchBytes, long adapterBytes, int tableInts, int kvBlocks, long kvBytes) {

    public static final double DEFAULT_UTILIZATION = 0.90;

    /**
     * The device as the driver reports it at start-up (cuMemGetInfo), before the weights are uploaded.
     *
     * @param name e.g. "NVIDIA H100 80GB HBM3", for messages
     */
    public record Device(String name, long freeBytes, long totalBytes) {
        public Device {
            if (freeBytes < 0 || totalBytes <= 0 || freeBytes > totalBytes) {
                throw new IllegalArgumentException("device memory: free " + freeBytes + " of " + totalBytes + " bytes");
            }
        }
    }

    /**
     * The model: its shape (for scratch and KV) and the bytes its weights take on the device
     * ({@link GpuFootprint#weightBytes}).
     *
     * @param name e.g. "7B 4-bit" or the model directory, for messages
     */
    public record Model(String name, LlamaConfig config, long weightBytes) {
        public Model {
            if (weightBytes < 0) throw new IllegalArgumentException("weightBytes must be >= 0: " + weightBytes);
        }
    }

    /**
     * What one step may hold.
     *
     * @param maxRows the engine's per-step token budget ({@code max(maxNumBatchedTokens, maxNumSeqs)})
     * @param maxSeqs the most sequences in one step ({@code maxNumSeqs}); at most one logits row each
     */
    public record StepLimits(int maxRows, int maxSeqs) {
        public StepLimits {
            if (maxRows <= 0 || maxSeqs <= 0) throw new IllegalArgumentException("maxRows and maxSeqs must be > 0");
        }

        /** Rows that can want logits in one step: one per chunk, and a chunk has at least one row. */
        public int maxWanted() {
            return Math.min(maxRows, maxSeqs);
        }
    }

    /**
     * LoRA adapter slots reserved on the device ({@code CudaRuntime.reserveAdapters}).
     *
     * @param slots   adapters resident at once (0: the base model only)
     * @param maxRank the largest rank a slot holds
     */
    public record Adapters(int slots, int maxRank) {
        public static final Adapters NONE = new Adapters(0, 0);

        public Adapters {
            if (slots < 0 || maxRank < 0) throw new IllegalArgumentException("slots and maxRank must be >= 0");
            if (slots > 0 && maxRank < 1) throw new IllegalArgumentException("maxRank must be >= 1 with adapter slots");
        }
    }

    /**
     * How the KV pool is sized.
     *
     * @param maxContext      the longest sequence the engine accepts (the model's context length)
     * @param wantedSequences full contexts the automatic pool is capped at ({@code maxNumSeqs})
     * @param utilization     share of the free device memory the runtime may use, in (0, 1]
     * @param explicitBytes   {@code kv-cache-memory}: the pool's exact budget; 0 sizes it automatically
     * @param dtype           the pool's element type, F16 or F32 (2 or 4 bytes per element)
     */
    public record KvPolicy(int blockSize, int maxContext, int wantedSequences, double utilization, long explicitBytes,
            KvCacheDtype dtype) {
        public KvPolicy {
            if (dtype != KvCacheDtype.F16 && dtype != KvCacheDtype.F32) {
                throw new IllegalArgumentException("the GPU KV pool is f16 or f32, not " + dtype);
            }
            if (blockSize <= 0 || maxContext <= 0 || wantedSequences <= 0) {
                throw new IllegalArgumentException("blockSize, maxContext and wantedSequences must be > 0");
            }
            if (!(utilization > 0 && utilization <= 1)) {
                throw new IllegalArgumentException("utilization must be in (0, 1]: " + utilization);
            }
            if (explicitBytes < 0) throw new IllegalArgumentException("explicitBytes must be >= 0: " + explicitBytes);
        }

        /** An fp32 pool. */
        public KvPolicy(int blockSize, int maxContext, int wantedSequences, double utilization, long explicitBytes) {
            this(blockSize, maxContext, wantedSequences, utilization, explicitBytes, KvCacheDtype.F32);
        }

        /** Automatic sizing of an fp32 pool within {@link #DEFAULT_UTILIZATION} of the free memory. */
        public static KvPolicy automatic(int blockSize, int maxContext, int wantedSequences) {
            return automatic(blockSize, maxContext, wantedSequences, KvCacheDtype.F32);
        }

        /** Automatic sizing of a {@code dtype} pool within {@link #DEFAULT_UTILIZATION} of the free memory. */
        public static KvPolicy automatic(int blockSize, int maxContext, int wantedSequences, KvCacheDtype dtype) {
            return new KvPolicy(blockSize, maxContext, wantedSequences, DEFAULT_UTILIZATION, 0, dtype);
        }

        public int blocksPerContext() {
            return Math.ceilDiv(maxContext, blockSize);
        }
    }

    public long weightBytes() {
        return model.weightBytes();
    }

    /** Tokens the KV pool holds. */
    public long kvTokens() {
        return (long) kvBlocks * kv.blockSize();
    }

    /** Usable bytes the plan leaves unallocated (less than one KV block unless the pool was capped). */
    public long headroomBytes() {
        return usableBytes - weightBytes() - scratchBytes - adapterBytes - kvBytes;
    }

    /** Logits rows the scratch holds. */
    public int scratchWanted() {
        return step.maxWanted();
    }

    /** One line for the start-up log. */
    public String summary() {
        return String.format(Locale.ROOT, "%s on %s: weights %s + step scratch %s (%d rows)%s + KV %s (%d blocks, %d "
                        + "tokens) = %s of %s usable (%s of %s free); headroom %s", model.name(), device.name(),
                size(weightBytes()), size(scratchBytes), step.maxRows(), adapterTerm(adapters, adapterBytes),
                size(kvBytes), kvBlocks, kvTokens(), size(weightBytes() + scratchBytes + adapterBytes + kvBytes),
                size(usableBytes), percent(kv.utilization()), size(device.freeBytes()), size(headroomBytes()));
    }

    /** " + LoRA adapters 12.0 MiB (4 slots, rank ≤ 16)", or nothing without slots. */
    private static String adapterTerm(Adapters a, long bytes) {
        if (a.slots() == 0) return "";
        return String.format(Locale.ROOT, " + LoRA adapters %s (%d slots, rank ≤ %d)", size(bytes), a.slots(), a.maxRank());
    }

    /** The plan for these inputs without adapter slots; throws {@link GpuMemoryPlanException} where it cannot fit. */
    public static GpuMemoryPlan plan(Device device, Model model, StepLimits step, KvPolicy kv) {
        return plan(device, model, step, Adapters.NONE, kv);
    }

    /**
     * The plan for these inputs; the adapter slots are taken with the weights and the step scratch, before the KV
     * pool. Throws {@link GpuMemoryPlanException} where it cannot fit.
     */
    public static GpuMemoryPlan plan(Device device, Model model, StepLimits step, Adapters adapters, KvPolicy kv) {
        LlamaConfig c = model.config();
        long usable = (long) Math.floor(kv.utilization() * device.freeBytes());
        int tableInts = GpuFootprint.tableInts(step.maxRows(), step.maxSeqs(), kv.maxContext(), kv.blockSize());
        long scratch = GpuFootprint.scratchBytes(c, step.maxRows(), step.maxWanted(), tableInts)
                + GpuFootprint.attentionScratchBytes(c, step.maxRows(), step.maxWanted(), kv.dtype());
        long lora = GpuFootprint.adapterBytes(c, adapters.slots(), adapters.maxRank(), step.maxRows());
        long blockBytes = GpuFootprint.kvBytesPerToken(c, kv.dtype()) * kv.blockSize();
        long oneContext = kv.blocksPerContext() * blockBytes;
        long left = usable - model.weightBytes() - scratch - lora;

        long blocks;
        if (kv.explicitBytes() > 0) {
            blocks = kv.explicitBytes() / blockBytes;
            if (blocks < kv.blocksPerContext()) {
                throw new GpuMemoryPlanException(String.format(Locale.ROOT, "%s on %s: kv-cache-memory %s holds %d "
                                + "tokens, less than one %d-token context (%s, %d blocks of %d tokens); raise it to at "
                                + "least %s", model.name(), device.name(), size(kv.explicitBytes()),
                        blocks * kv.blockSize(), kv.maxContext(), size(oneContext), kv.blocksPerContext(),
                        kv.blockSize(), size(oneContext)));
            }
            if (blocks * blockBytes > left) throw notFitting(device, model, step, adapters, kv, usable, scratch, lora,
                    blocks * blockBytes,
                    "the configured KV pool (kv-cache-memory) " + size(blocks * blockBytes));
        } else {
            long fit = Math.max(0, left) / blockBytes;
            blocks = Math.min(fit, (long) kv.blocksPerContext() * kv.wantedSequences());
            if (blocks < kv.blocksPerContext()) {
                throw notFitting(device, model, step, adapters, kv, usable, scratch, lora, oneContext,
                        "KV for one " + kv.maxContext() + "-token context " + size(oneContext));
            }
        }
        int kvBlocks = Math.toIntExact(Math.min(blocks, Integer.MAX_VALUE));
        return new GpuMemoryPlan(device, model, step, adapters, kv, usable, scratch, lora, tableInts, kvBlocks,
                kvBlocks * blockBytes);
    }

    /** The failure message: the sum, the limit it passes, and what would make it fit. */
    private static GpuMemoryPlanException notFitting(Device device, Model model, StepLimits step, Adapters adapters,
            KvPolicy kv, long usable, long scratch, long lora, long kvNeed, String kvTerm) {
        LlamaConfig c = model.config();
        long need = model.weightBytes() + scratch + lora + kvNeed;
        String sum = String.format(Locale.ROOT, "%s on %s (%s): weights %s + step scratch %s (%d rows)%s + %s = %s > %s "
                        + "usable (%s of %s free)", model.name(), device.name(), size(device.totalBytes()),
                size(model.weightBytes()), size(scratch),
                step.maxRows(), adapterTerm(adapters, lora), kvTerm, size(need), size(usable), percent(kv.utilization()),
                size(device.freeBytes()));

        List<String> fixes = new ArrayList<>();
        // Rows that would fit with everything else unchanged; the logits and tables already count at their most.
        long perRow = 4 * GpuFootprint.rowWords(c) + GpuFootprint.attentionScratchBytes(c, 1, 0, kv.dtype())
                + (adapters.slots() > 0 ? GpuFootprint.adapterStepBytes(1, adapters.maxRank()) : 0);
        long fixedScratch = scratch + lora - step.maxRows() * perRow;
        long rowRoom = usable - model.weightBytes() - kvNeed - fixedScratch;
        long rows = rowRoom / perRow;
        if (rows >= step.maxSeqs() && rows < step.maxRows()) {
            fixes.add("a smaller max-num-batched-tokens (at most " + rows + "; each row of a step takes "
                    + size(perRow) + " of scratch)");
        }
        // Fewer adapter slots, everything else unchanged.
        if (adapters.slots() > 0) {
            long perSlot = GpuFootprint.adapterSlotBytes(c, adapters.maxRank());
            long slots = (usable - model.weightBytes() - scratch - kvNeed
                    - GpuFootprint.adapterStepBytes(step.maxRows(), adapters.maxRank())) / perSlot;
            fixes.add(slots >= 1 && slots < adapters.slots()
                    ? "fewer LoRA adapter slots (at most " + slots + "; each takes " + size(perSlot) + " at rank "
                            + adapters.maxRank() + ") or a lower maximum LoRA rank"
                    : "a lower maximum LoRA rank or no LoRA adapters (" + size(lora) + ")");
        }
        // Context that would fit: its KV alone, with the scratch unchanged.
        long perToken = GpuFootprint.kvBytesPerToken(c, kv.dtype());
        long tokens = (usable - model.weightBytes() - scratch - lora) / perToken / kv.blockSize() * kv.blockSize();
        if (kv.explicitBytes() == 0 && tokens > 0 && tokens < kv.maxContext()) {
            fixes.add("a shorter context (at most " + tokens + " tokens; KV takes " + size(perToken)
                    + " per token)");
        }
        if (kv.explicitBytes() > 0) {
            long room = Math.max(0, usable - model.weightBytes() - scratch - lora);
            fixes.add("a smaller kv-cache-memory (at most " + size(room) + " is left)");
        }
        if (kv.utilization() < 1 && need <= device.freeBytes()) {
            fixes.add("a higher GPU memory utilization (" + percent((double) need / device.freeBytes())
                    + " of the free memory would do)");
        }
        if (model.weightBytes() >= usable) {
            fixes.add("a bigger device: the weights alone need " + size(model.weightBytes()));
        } else {
            fixes.add("a bigger device (" + size(need - usable) + " more usable memory)");
        }
        return new GpuMemoryPlanException(sum + ". To fit, use " + String.join("; or ", fixes) + ".");
    }

    /** Bytes in GiB (one decimal) from 1 GiB up, else MiB, else KiB: enough to check the sum by eye. */
    static String size(long bytes) {
        double b = bytes;
        if (Math.abs(b) >= 1L << 30) return String.format(Locale.ROOT, "%.1f GiB", b / (1L << 30));
        if (Math.abs(b) >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", b / (1L << 20));
        return String.format(Locale.ROOT, "%.1f KiB", b / (1L << 10));
    }

    private static String percent(double share) {
        return String.format(Locale.ROOT, "%.0f %%", share * 100);
    }
}
