package io.paddock.runtime.cuda;

/** A device allocation that did not fit (CUDA_ERROR_OUT_OF_MEMORY, or the simulated device's capacity). */
public final class GpuOutOfMemoryException extends IllegalStateException {
    public GpuOutOfMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
