package io.paddock.engine;

import io.paddock.runtime.ModelRuntime;
import io.paddock.runtime.StepChunk;
import java.util.Set;

/**
 * Which adapter each of the runtime's LoRA slots holds (engine thread only). A step's adapters are made resident
 * before its forward pass: an adapter already in a slot stays there; a missing one takes an empty slot, or the least
 * recently used slot whose adapter is not in the step. The scheduler never puts more distinct adapters in one step
 * than there are slots.
 */
final class AdapterSlots {
    private final ModelRuntime runtime;
    private final AdapterRegistry registry;
    private final ServedAdapter[] resident; // index = slot; [0] unused (the bare base)
    private final long[] lastUsed;
    private long clock;
    private long loads;

    AdapterSlots(ModelRuntime runtime, AdapterRegistry registry) {
        this.runtime = runtime;
        this.registry = registry;
        int n = registry.config().maxLoras();
        this.resident = new ServedAdapter[n + 1];
        this.lastUsed = new long[n + 1];
    }

    /** The slot of {@code a} for this step, loading it first where needed; {@code inStep}: the step's adapters. */
    int slotFor(ServedAdapter a, Set<ServedAdapter> inStep) {
        if (a == null) return StepChunk.NO_ADAPTER;
        clock++;
        for (int s = 1; s < resident.length; s++) {
            if (resident[s] == a) {
                lastUsed[s] = clock;
                return s;
            }
        }
        int victim = -1;
        for (int s = 1; s < resident.length; s++) {
            if (resident[s] == null) {
                victim = s;
                break;
            }
            if (!inStep.contains(resident[s]) && (victim < 0 || lastUsed[s] < lastUsed[victim])) victim = s;
        }
        if (victim < 0) {
            throw new IllegalStateException("a step uses more adapters than the " + (resident.length - 1) + " slots");
        }
        resident[victim] = null;
        runtime.loadAdapter(victim, registry.weights(a));
        resident[victim] = a;
        lastUsed[victim] = clock;
        loads++;
        return victim;
    }

    /** Empties the slot holding {@code a}, if any. */
    void evict(ServedAdapter a) {
        for (int s = 1; s < resident.length; s++) {
            if (resident[s] == a) {
                runtime.unloadAdapter(s);
                resident[s] = null;
            }
        }
    }

    /** Adapters loaded into a slot so far (a measure of slot thrashing). */
    long loads() {
        return loads;
    }
}
