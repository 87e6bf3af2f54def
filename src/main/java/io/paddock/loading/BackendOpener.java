package io.paddock.loading;

import io.paddock.model.LlamaCheckpoint;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.ModelRuntime;
import io.paddock.runtime.cpu.CpuLlama;
import io.paddock.runtime.cpu.Parallel;
import io.paddock.runtime.cpu.PreparedCache;
import io.paddock.runtime.cuda.CudaDevices;
import io.paddock.runtime.cuda.CudaRuntime;

/**
 * The one place that knows the backends: turns a runtime mode ({@code auto|cpu|cuda}) into the {@link RuntimeSelection}
 * and the {@link LoadedModel.Backend} that opens it. Everything above sees only {@code runtime.ModelRuntime}.
 */
final class BackendOpener {
    private BackendOpener() {}

    /** Decides the backend for {@code runtimeMode}, probing CUDA where the answer matters. */
    static RuntimeSelection select(String runtimeMode) {
        try {
            return RuntimeSelection.select(runtimeMode, CudaDevices::unavailableReason);
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new EngineStartException(e.getMessage(), e);
        }
    }

    /**
     * Opens the backend {@code selection} chose: {@link CudaRuntime} or {@link CpuLlama} on the model's pool, the latter
     * preparing GPTQ layers through {@code preparedCache}, fingerprinted by the checkpoint's weight files.
     */
    static LoadedModel.Backend backend(RuntimeSelection selection, PreparedCache preparedCache) {
        return new LoadedModel.Backend() {
            @Override
            public ModelRuntime open(LlamaWeights weights, Parallel parallel) {
                return selection.useCuda() ? new CudaRuntime(weights) : new CpuLlama(weights, parallel, preparedCache);
            }

            @Override
            public ModelRuntime open(LlamaCheckpoint checkpoint, Parallel parallel) {
                return selection.useCuda() ? new CudaRuntime(checkpoint.weights())
                        : new CpuLlama(checkpoint.weights(), parallel, preparedCache.withSources(checkpoint.store().files()));
            }
        };
    }
}
