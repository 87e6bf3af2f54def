package io.paddock.loading;

import io.paddock.runtime.cpu.CpuLlama;
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

    /** Opens the backend {@code selection} chose: {@link CudaRuntime} or {@link CpuLlama} on the model's pool. */
    static LoadedModel.Backend backend(RuntimeSelection selection) {
        return (weights, parallel) -> selection.useCuda() ? new CudaRuntime(weights) : new CpuLlama(weights, parallel);
    }
}
