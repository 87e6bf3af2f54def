package io.paddock.runtime.cuda;

/**
 * A {@link GpuMemoryPlan} that does not fit the device. An IllegalStateException so that the engine's start-up,
 * which already turns those into a start failure, reports it without another catch.
 */
public final class GpuMemoryPlanException extends IllegalStateException {
    public GpuMemoryPlanException(String message) {
        super(message);
    }
}
