package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paddock.engine.EngineConfig;
import io.paddock.engine.EngineStats;
import io.paddock.engine.GenerationRequest;
import io.paddock.engine.GenerationResult;
import io.paddock.engine.GenerationService;
import io.paddock.loading.LoadedModel;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.runtime.StepChunk;
import io.paddock.runtime.cuda.sim.SimSettings;
import io.paddock.runtime.cuda.sim.SimulatedDevice;
import io.paddock.testing.EngineTesting;
import io.paddock.testing.SharedModels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Decode steps as CUDA graphs ({@link CudaGraphs}) and the fused residual add + RMSNorm. The parity tests run on the
 * real device under scripts/gpu-check and on the simulated one elsewhere; those that read the simulated device's
 * launch and graph counters run on it only:
 * a replayed graph gives the logits of launch-by-launch execution bit for bit (stories260K and a GPTQ act-order
 * fixture, batch sizes on both GPTQ kernels, positions and block tables changing between replays), one graph
 * launch and no direct launch per decode step after the capture, the LRU cap destroys what it drops, reserveStep
 * and adapters invalidate, copies during a capture are refused, and the engine (with preemption) answers token for
 * token the same with graphs on and off.
 */
class CudaGraphsTests {

    /** For the tests that read the simulated device's counters; skipped where the tests run on a real GPU. */
    private static SimulatedDevice simulated() {
        assumeTrue(!CudaTesting.realDevice(), "counts launches and graphs on the simulated device");
        assumeTrue(SimulatedDevice.unavailableReason().isEmpty(), () -> "no simulated device: "
                + SimulatedDevice.unavailableReason().orElse(""));
        return new SimulatedDevice(SimSettings.h100_80gb());
    }

    /**
     * Five sequences of random prompts over shuffled 4-token blocks; then decode steps of 1, 3, 5, 2, 5, 1, 3, 4
     * rows, each a different subset in a different order (so the block tables, table offsets and positions uploaded
     * before each replay all differ), the same on a runtime with graphs and one without.
     */
    @ParameterizedTest
    @ValueSource(strings = {"stories260K", "stories260K-gptq-4bit-32g-actorder"})
    void graphReplayEqualsEagerExecutionBitForBit(String model) {
        Random rnd = new Random(7);
        int seqs = 5, blockSize = 4, perSeq = 8;
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require(model), CudaTesting.overrides(model));
             CudaRuntime eager = new CudaRuntime(ckpt.weights(), CudaTesting.device(), false);
             CudaRuntime graphed = new CudaRuntime(ckpt.weights(), CudaTesting.device(), true);
             CudaKvStore kvEager = eager.newKvStore(seqs * perSeq, blockSize);
             CudaKvStore kvGraphed = graphed.newKvStore(seqs * perSeq, blockSize)) {
            assertThat(eager.graphs()).isNull();
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < seqs * perSeq; i++) ids.add(i);
            Collections.shuffle(ids, rnd);
            int[][] tables = new int[seqs][perSeq];
            for (int s = 0; s < seqs; s++) for (int b = 0; b < perSeq; b++) tables[s][b] = ids.get(s * perSeq + b);
            int[] pos = new int[seqs], next = new int[seqs];
            List<StepChunk> prefill = new ArrayList<>();
            for (int s = 0; s < seqs; s++) {
                int[] prompt = new int[1 + rnd.nextInt(12)];
                for (int i = 0; i < prompt.length; i++) prompt[i] = 1 + rnd.nextInt(500);
                prefill.add(new StepChunk(tables[s], prompt, 0, true));
                pos[s] = prompt.length;
            }
            float[][] a = eager.forward(kvEager, prefill), b = graphed.forward(kvGraphed, prefill);
            assertBitEqual(a, b, "prefill");
            for (int s = 0; s < seqs; s++) next[s] = CudaTesting.argmax(a[s]);

            int[] batches = {1, 3, 5, 2, 5, 1, 3, 4};
            for (int step = 0; step < batches.length; step++) {
                List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3, 4));
                Collections.shuffle(order, rnd);
                List<StepChunk> decode = new ArrayList<>();
                for (int k = 0; k < batches[step]; k++) {
                    int s = order.get(k);
                    decode.add(new StepChunk(tables[s], new int[] {next[s]}, pos[s], true));
                }
                a = eager.forward(kvEager, decode);
                b = graphed.forward(kvGraphed, decode);
                assertBitEqual(a, b, "decode step " + step);
                for (int k = 0; k < batches[step]; k++) {
                    int s = order.get(k);
                    next[s] = CudaTesting.argmax(a[k]);
                    pos[s]++;
                }
            }
            // One capture per row count (1, 2, 3, 4, 5); the other three steps replayed.
            assertThat(graphed.graphs().captures()).isEqualTo(5);
            assertThat(graphed.graphs().replays()).isEqualTo(3);
        }
    }

    private static void assertBitEqual(float[][] want, float[][] got, String what) {
        assertThat(got.length).as(what).isEqualTo(want.length);
        for (int i = 0; i < want.length; i++) {
            assertThat(got[i]).as("%s, chunk %d", what, i).isNotNull();
            for (int j = 0; j < want[i].length; j++) {
                if (Float.floatToRawIntBits(got[i][j]) != Float.floatToRawIntBits(want[i][j])) {
                    throw new AssertionError(what + ", chunk " + i + ", logit " + j + ": " + got[i][j] + " != " + want[i][j]);
                }
            }
        }
    }

    @Test
    void aDecodeStepAfterTheCaptureIsOneGraphLaunch() {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require("stories260K-gptq-4bit-32g-actorder"), GptqOverrides.NONE)) {
            SimulatedDevice d = simulated();
            try (CudaRuntime rt = new CudaRuntime(ckpt.weights(), d, true); CudaKvStore kv = rt.newKvStore(8, 16)) {
                int[][] tables = {{0, 1}, {2, 3}};
                rt.forward(kv, List.of(new StepChunk(tables[0], CudaTesting.PROMPT, 0, true),
                        new StepChunk(tables[1], new int[] {1, 403}, 0, true)));
                assertThat(d.graphLaunches()).as("a prefill step runs launch by launch").isZero();
                long prefillLaunches = d.directLaunches();
                assertThat(prefillLaunches).isPositive();

                d.resetCounters();
                long issued = rt.kernelLaunches();
                rt.forward(kv, decode(tables, 24, 2, 300));
                long perStep = rt.kernelLaunches() - issued;   // issued into the capture
                assertThat(d.graphLaunches()).isEqualTo(1);
                assertThat(d.directLaunches()).as("every launch went into the graph").isZero();
                long executed = d.launchCounts().values().stream().mapToLong(Long::longValue).sum();
                assertThat(executed).as("the replay ran what the capture recorded").isEqualTo(perStep);

                for (int step = 1; step <= 3; step++) {
                    d.resetCounters();
                    issued = rt.kernelLaunches();
                    rt.forward(kv, decode(tables, 24 + step, 2 + step, 300 + step));
                    assertThat(d.graphLaunches()).isEqualTo(1);
                    assertThat(d.directLaunches()).isZero();
                    assertThat(rt.kernelLaunches()).as("a replay issues nothing through the launchers").isEqualTo(issued);
                    assertThat(d.launchCounts().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(perStep);
                }
                assertThat(rt.graphs().captures()).isEqualTo(1);
                assertThat(rt.graphs().replays()).isEqualTo(3);
                assertThat(d.liveGraphs()).isEqualTo(1);
            }
            assertThat(d.liveGraphs()).as("the runtime destroyed its graphs before closing the device").isZero();
            assertThat(d.liveAllocations()).isZero();
        }
    }

    private static List<StepChunk> decode(int[][] tables, int pos0, int pos1, int token) {
        return List.of(new StepChunk(tables[0], new int[] {token}, pos0, true),
                new StepChunk(tables[1], new int[] {token + 1}, pos1, true));
    }

    @Test
    void withGraphsOffEveryStepRunsLaunchByLaunch() {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require("stories260K"), GptqOverrides.NONE)) {
            SimulatedDevice d = simulated();
            try (CudaRuntime rt = new CudaRuntime(ckpt.weights(), d, false); CudaKvStore kv = rt.newKvStore(4, 16)) {
                assertThat(rt.graphs()).isNull();
                int[] table = {0, 1};
                rt.forward(kv, List.of(new StepChunk(table, CudaTesting.PROMPT, 0, true)));
                for (int step = 0; step < 3; step++) {
                    d.resetCounters();
                    long issued = rt.kernelLaunches();
                    rt.forward(kv, List.of(new StepChunk(table, new int[] {300 + step}, 24 + step, true)));
                    assertThat(d.graphLaunches()).isZero();
                    assertThat(d.directLaunches()).isEqualTo(rt.kernelLaunches() - issued).isPositive();
                }
                assertThat(d.liveGraphs()).isZero();
            }
        }
    }

    @Test
    void theOptionIsTrueOrFalse() {
        assertThat(CudaOptions.graphs(null)).isTrue();
        assertThat(CudaOptions.graphs("")).isTrue();
        assertThat(CudaOptions.graphs("true")).isTrue();
        assertThat(CudaOptions.graphs(" OFF ")).isFalse();
        assertThat(CudaOptions.graphs("false")).isFalse();
        assertThatThrownBy(() -> CudaOptions.graphs("sometimes")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("paddock.cuda.graphs must be true or false, got 'sometimes'");
        assertThat(new CudaOptions(null, null).graphs()).isTrue();
    }

    @Test
    void theLeastRecentlyUsedGraphIsDestroyedBeyondTheCap() {
        SimulatedDevice d = simulated();
        try (d; Arena arena = Arena.ofConfined()) {
            long buf = d.alloc(64);
            CudaGraphs graphs = new CudaGraphs(d, 2);
            for (int rows = 1; rows <= 2; rows++) {
                int value = rows;
                graphs.run(rows, null, () -> d.memsetD32(buf, value, 16));
            }
            graphs.run(1, null, () -> { throw new AssertionError("rows 1 is cached"); });   // 1 is now the most recent
            graphs.run(3, null, () -> d.memsetD32(buf, 3, 16));
            assertThat(graphs.size()).isEqualTo(2);
            assertThat(graphs.has(2)).as("the least recently used").isFalse();
            assertThat(graphs.has(1)).isTrue();
            assertThat(graphs.has(3)).isTrue();
            assertThat(graphs.evictions()).isEqualTo(1);
            assertThat(d.liveGraphs()).as("the evicted graph is destroyed").isEqualTo(2);

            MemorySegment host = arena.allocate(64);
            graphs.run(1, null, () -> { throw new AssertionError("rows 1 is cached"); });
            d.copyToHost(host, buf);
            assertThat(host.get(ValueLayout.JAVA_INT, 60)).as("the replayed memset").isEqualTo(1);

            graphs.invalidate();
            assertThat(graphs.size()).isZero();
            assertThat(d.liveGraphs()).isZero();
            d.free(buf);
        }
    }

    @Test
    void copiesDuringACaptureAreRefusedAndAFailedCaptureLeavesNothing() {
        SimulatedDevice d = simulated();
        try (d; Arena arena = Arena.ofConfined()) {
            long buf = d.alloc(64);
            MemorySegment host = arena.allocate(64);
            d.copyToDevice(buf, host);   // zeros
            d.beginCapture();
            assertThatThrownBy(() -> d.copyToDevice(buf, host)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("copyToDevice during a graph capture: a graph holds kernel launches and memsets only"
                            + " (copy before beginCapture or after endCapture)");
            assertThatThrownBy(() -> d.copyToHost(host, buf)).hasMessageStartingWith("copyToHost during a graph capture");
            assertThatThrownBy(() -> d.copyDeviceToDevice(buf, buf + 32, 16)).hasMessageStartingWith("copyDeviceToDevice during");
            assertThatThrownBy(() -> d.alloc(16)).hasMessageStartingWith("alloc during a graph capture");
            assertThatThrownBy(d::beginCapture).hasMessageContaining("already in progress");
            d.memsetD32(buf, 7, 16);   // recorded, not run
            GpuDevice.GpuGraph g = d.endCapture();
            assertThat(g.nodes()).isEqualTo(1);
            d.copyToHost(host, buf);
            assertThat(host.get(ValueLayout.JAVA_INT, 0)).as("a captured memset does not run").isZero();
            d.launchGraph(g);
            d.copyToHost(host, buf);
            assertThat(host.get(ValueLayout.JAVA_INT, 0)).isEqualTo(7);
            // A replay checks its nodes against the live allocations again: memory freed since the capture is refused.
            long gone = d.alloc(64);
            d.beginCapture();
            d.memsetD32(gone, 1, 16);
            GpuDevice.GpuGraph stale = d.endCapture();
            d.free(gone);
            assertThatThrownBy(() -> d.launchGraph(stale)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("memsetD32 destination");
            stale.close();
            g.close();
            assertThatThrownBy(() -> d.launchGraph(g)).hasMessage("launchGraph: the graph is closed");

            // Through the cache: the work's refusal propagates, the capture is ended and nothing is cached.
            CudaGraphs graphs = new CudaGraphs(d, 4);
            assertThatThrownBy(() -> graphs.run(1, null, () -> d.copyToDevice(buf, host)))
                    .hasMessageStartingWith("copyToDevice during a graph capture");
            assertThat(d.capturing()).isFalse();
            assertThat(graphs.size()).isZero();
            assertThat(d.liveGraphs()).isZero();
            d.free(buf);
        }
    }

    @Test
    void reserveStepAdaptersAndAnotherKvStoreInvalidate() {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require("stories260K-padded"), GptqOverrides.NONE)) {
            SimulatedDevice d = simulated();
            try (CudaRuntime rt = new CudaRuntime(ckpt.weights(), d, true)) {
                int[] table = {0, 1};
                List<StepChunk> one = List.of(new StepChunk(table, new int[] {5}, 0, true));
                float[] first;
                try (CudaKvStore kv = rt.newKvStore(4, 16)) {
                    first = rt.forward(kv, one)[0];
                    assertThat(rt.graphs().size()).isEqualTo(1);
                }
                try (CudaKvStore kv = rt.newKvStore(4, 16)) {
                    // Another store: its addresses differ, so the step is captured again (the old graph destroyed).
                    assertThat(rt.forward(kv, one)[0]).containsExactly(first);
                    assertThat(rt.graphs().captures()).isEqualTo(2);
                    assertThat(d.liveGraphs()).isEqualTo(1);
                }
                rt.reserveStep(32, 4, 16);
                assertThat(rt.graphs().size()).as("reserveStep re-allocates the scratch the graphs point at").isZero();
                assertThat(d.liveGraphs()).isZero();
                try (CudaKvStore kv = rt.newKvStore(4, 16)) {
                    assertThat(rt.forward(kv, one)[0]).containsExactly(first);
                    rt.reserveAdapters(1, 4);
                    assertThat(d.liveGraphs()).isZero();
                    rt.forward(kv, one);
                    assertThat(d.liveGraphs()).isEqualTo(1);
                    rt.loadAdapter(1, CudaLoraTests.qv(rt.config()));
                    assertThat(d.liveGraphs()).isZero();
                    // A step with an adapter row runs launch by launch; a base step is a graph again.
                    d.resetCounters();
                    rt.forward(kv, List.of(new StepChunk(table, new int[] {5}, 0, true, 1)));
                    assertThat(d.graphLaunches()).isZero();
                    rt.forward(kv, one);
                    assertThat(d.graphLaunches()).isEqualTo(1);
                    rt.unloadAdapter(1);
                    assertThat(d.liveGraphs()).isZero();
                }
            }
            assertThat(d.liveGraphs()).isZero();
        }
    }

    @Test
    void addRmsnormIsBitIdenticalToAddThenRmsnorm() {
        GpuDevice d = CudaTesting.device();
        try (d; CudaKernels k = new CudaKernels(d); Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(3);
            int rows = 3, n = 777;
            long bytes = (long) rows * n * Float.BYTES;
            MemorySegment x = arena.allocate(bytes), delta = arena.allocate(bytes), w = arena.allocate((long) n * Float.BYTES);
            for (int i = 0; i < rows * n; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble(-2, 2));
                delta.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble(-1, 1));
            }
            for (int i = 0; i < n; i++) w.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble(0.5, 1.5));
            long dx1 = d.alloc(bytes), dx2 = d.alloc(bytes), dd1 = d.alloc(bytes), dd2 = d.alloc(bytes), dw = d.alloc(n * 4L);
            long out = d.alloc(bytes);
            d.copyToDevice(dx1, x);
            d.copyToDevice(dx2, x);
            d.copyToDevice(dd1, delta);
            d.copyToDevice(dd2, delta);
            d.copyToDevice(dw, w);
            k.add(dx1, dd1, (long) rows * n);
            k.rmsnorm(out, dx1, dw, rows, n, 1e-5f);
            k.addRmsnorm(dx2, dd2, dd2, dw, rows, n, 1e-5f);   // out = delta, as the runtime calls it
            MemorySegment want = arena.allocate(bytes), got = arena.allocate(bytes), x1 = arena.allocate(bytes), x2 = arena.allocate(bytes);
            d.copyToHost(want, out);
            d.copyToHost(got, dd2);
            d.copyToHost(x1, dx1);
            d.copyToHost(x2, dx2);
            assertThat(got.mismatch(want)).as("normed rows").isEqualTo(-1);
            assertThat(x2.mismatch(x1)).as("residual").isEqualTo(-1);
            for (long p : new long[] {dx1, dx2, dd1, dd2, dw, out}) d.free(p);
        }
    }

    /** The engine with preemption (as CudaEngineTests): graphs on and off answer token for token the same. */
    @Test
    void theEngineUnderPreemptionAnswersTheSameWithGraphsOnAndOff() throws Exception {
        String model = "stories260K-gptq-4bit-32g-actorder";
        List<GenerationRequest> requests = CudaEngineTests.preemptionRequests();
        long blockBytes = 16 * 2L * 5 * 32 * Float.BYTES;
        List<List<GenerationResult>> answers = new ArrayList<>();
        for (boolean graphs : new boolean[] {false, true}) {
            LoadedModel loaded = LoadedModel.load(model, "test", SharedModels.require(model), GptqOverrides.NONE, 1,
                    (weights, parallel) -> new CudaRuntime(weights, CudaTesting.device(), graphs));
            List<GenerationResult> got = new ArrayList<>();
            EngineStats end;
            try (GenerationService g = new GenerationService(loaded, new EngineConfig(16, 16 * blockBytes, 16, 64, true, 64))) {
                List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
                for (GenerationRequest q : requests) futures.add(g.submit(q));
                for (var f : futures) got.add(f.get(300, TimeUnit.SECONDS));
                end = EngineTesting.awaitIdle(g);
                CudaGraphs cached = ((CudaRuntime) g.model().runtime()).graphs();
                if (graphs) assertThat(cached.replays()).as("decode steps were replayed").isPositive();
                else assertThat(cached).isNull();
            }
            assertThat(end.preemptions()).as("the pool must be small enough to force preemption").isPositive();
            answers.add(got);
        }
        for (int i = 0; i < requests.size(); i++) {
            assertThat(answers.get(1).get(i).tokens()).as("request %d", i).containsExactly(answers.get(0).get(i).tokens());
        }
    }
}
