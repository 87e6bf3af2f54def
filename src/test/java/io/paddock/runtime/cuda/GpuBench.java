package io.paddock.runtime.cuda;

import io.paddock.model.LlamaCheckpoint;
import io.paddock.runtime.StepChunk;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Decode and prefill throughput of {@link CudaRuntime} on the given model folders (scripts/gpu-check run).
 * stories260K is tiny, so these figures measure per-step launch and copy overhead, not bandwidth.
 * Usage: GpuBench MODEL_DIR...
 */
public final class GpuBench {
    private GpuBench() {}

    public static void main(String[] args) {
        for (String arg : args) {
            Path dir = Path.of(arg);
            String name = dir.getFileName().toString();
            try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(dir, CudaTesting.overrides(name));
                 CudaRuntime gpu = new CudaRuntime(ckpt.weights())) {
                for (int batch : new int[] {1, 4, 16, 64}) {
                    int steps = 128, prompt = 32, blockSize = 16, perSeq = Math.ceilDiv(prompt + steps, blockSize);
                    try (CudaKvStore kv = gpu.newKvStore(batch * perSeq, blockSize)) {
                        int[][] tables = new int[batch][perSeq];
                        for (int s = 0; s < batch; s++) for (int b = 0; b < perSeq; b++) tables[s][b] = s * perSeq + b;
                        List<StepChunk> pre = new ArrayList<>();
                        for (int s = 0; s < batch; s++) {
                            int[] t = new int[prompt];
                            for (int i = 0; i < prompt; i++) t[i] = 1 + (i * 31 + s * 7) % 500;
                            pre.add(new StepChunk(tables[s], t, 0, true));
                        }
                        long t0 = System.nanoTime();
                        gpu.forward(kv, pre);
                        long t1 = System.nanoTime();
                        for (int step = 0; step < steps; step++) {
                            List<StepChunk> dec = new ArrayList<>();
                            for (int s = 0; s < batch; s++) dec.add(new StepChunk(tables[s], new int[] {1 + (step + s) % 500}, prompt + step, true));
                            gpu.forward(kv, dec);
                        }
                        long t2 = System.nanoTime();
                        System.out.printf("%s on %s: batch %d prefill %.0f tok/s, decode %.0f tok/s (%.3f ms/step)%n", name,
                                gpu.deviceName(), batch, batch * prompt / ((t1 - t0) / 1e9),
                                (double) batch * steps / ((t2 - t1) / 1e9), (t2 - t1) / 1e6 / steps);
                    }
                }
            }
        }
    }
}
