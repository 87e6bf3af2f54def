package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.bench.SyntheticCheckpoint;
import io.paddock.bench.SyntheticShape;
import io.paddock.bench.SyntheticSpec;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.StepChunk;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With an fp16 KV pool, decode steps of one batch size issue exactly the same launches — kernels, grids, blocks and
 * argument bits — whatever the sequences' positions and block tables: positions and tables reach the kernels only
 * through device buffers, and the flash-decoding grid uses the partition count fixed by the model's context. That
 * is what lets one captured CUDA graph per batch size replay every such step.
 */
class CudaDecodeLaunchesTests {

    /** A GpuDevice that records every launch and passes everything through. */
    static final class Recording extends ForwardingGpuDevice {
        final List<String> launches = new ArrayList<>();

        Recording(GpuDevice d) { super(d); }

        @Override public void memsetD32(long dst, int value, long count) {
            launches.add("memset " + dst + " " + value + " " + count);
            d.memsetD32(dst, value, count);
        }
        @Override public void launch(GpuFunction f, Dim3 grid, Dim3 block, long[] args) {
            launches.add(f.spec().name() + " " + grid + " " + block + " " + Arrays.toString(args));
            d.launch(f, grid, block, args);
        }
    }


    @TempDir
    static Path tmp;

    @Test
    void decodeStepsOfOneBatchSizeLaunchTheSameWhateverThePositions() {
        // GQA 2 (4 heads, 2 kv heads of 16), context 2048: sixteen 128-position partitions.
        SyntheticShape shape = new SyntheticShape("gqa-2k", 64, 128, 1, 4, 2, SyntheticShape.TINY.vocab(), 2048, 1e-5);
        Path dir = SyntheticCheckpoint.write(new SyntheticSpec(shape, 1, SyntheticSpec.Format.GPTQ, 4, 32, false, 12),
                tmp.resolve("gqa-2k"));
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(dir, GptqOverrides.NONE)) {
            Recording rec = new Recording(CudaTesting.device());
            try (CudaRuntime gpu = new CudaRuntime(ckpt.weights(), rec, false);
                 CudaKvStore kv = gpu.newKvStore(64, 16)) {
                assertThat(gpu.kvCacheDtype()).isEqualTo(KvCacheDtype.F16);
                // Three sequences: prompts of 5, 600 and 40 tokens (600 spans five of the 128-position partitions).
                int[][] tables = new int[3][];
                int[] lengths = {5, 600, 40};
                int next = 0;
                for (int s = 0; s < 3; s++) {
                    tables[s] = new int[Math.ceilDiv(lengths[s] + 40, 16)];
                    for (int b = 0; b < tables[s].length; b++) tables[s][b] = next++;
                    int[] prompt = new int[lengths[s]];
                    for (int i = 0; i < prompt.length; i++) prompt[i] = 1 + (i * 7 + s) % 500;
                    for (int start = 0; start < prompt.length; start += 300) {   // the default step budget is 512 rows
                        int[] chunk = Arrays.copyOfRange(prompt, start, Math.min(prompt.length, start + 300));
                        gpu.forward(kv, List.of(new StepChunk(tables[s], chunk, start, false)));
                    }
                }
                List<List<String>> steps = new ArrayList<>();
                for (int step = 0; step < 3; step++) {
                    List<StepChunk> decode = new ArrayList<>();
                    for (int s = 0; s < 3; s++) decode.add(new StepChunk(tables[s], new int[] {3 + step}, lengths[s] + step, true));
                    rec.launches.clear();
                    float[][] logits = gpu.forward(kv, decode);
                    for (float[] l : logits) assertThat(l).isNotNull();
                    steps.add(List.copyOf(rec.launches));
                }
                assertThat(steps.get(0)).anyMatch(l -> l.startsWith("paged_attention_decode_f16 "))
                        .noneMatch(l -> l.startsWith("paged_attention_prefill_f16 "));
                assertThat(steps.get(1)).containsExactlyElementsOf(steps.get(0));
                assertThat(steps.get(2)).containsExactlyElementsOf(steps.get(0));
            }
        }
    }
}
