package io.paddock.runtime;

/**
 * One accelerator's memory as a runtime sees it, for metrics: what the device reports in use and in total (all
 * processes), and what this runtime holds there, by use. Plain numbers, so nothing of the device's API leaks upward.
 *
 * @param device       the device's ordinal as a short label, e.g. "0"
 * @param usedBytes    total minus free, as the driver reports it (every process on the device)
 * @param totalBytes   the device's memory
 * @param weightsBytes this runtime's model weights (and tables it derives from them, e.g. RoPE)
 * @param kvCacheBytes this runtime's KV pools
 * @param scratchBytes this runtime's per-step buffers
 */
public record DeviceMemoryReport(String device, long usedBytes, long totalBytes, long weightsBytes,
        long kvCacheBytes, long scratchBytes) {}
