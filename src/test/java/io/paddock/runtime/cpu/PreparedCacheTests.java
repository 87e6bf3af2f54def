package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.model.GptqLinear;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LayerWeights;
import io.paddock.model.Linear;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.testing.SharedModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The prepared-weights cache: what it maps equals a fresh in-memory preparation byte for byte, a file that does not
 * match (truncated, another layout version, changed source) is rebuilt, concurrent first loads leave one good file,
 * and an unwritable directory falls back to memory.
 */
class PreparedCacheTests {
    @TempDir
    Path tmp;

    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private final PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);

    @ParameterizedTest
    @ValueSource(strings = {"stories260K-gptq-4bit-32g-actorder", "stories260K-gptq-3bit-32g-actorder",
            "stories260K-gptq-4bit-nogroup", "stories260K-gptq-8bit-nogroup", "stories260K-gptq-2bit-32g",
            "stories260K-gptq-4bit-64g", "stories260K-gptq-legacy-4bit-32g"})
    void layersFromTheCacheEqualFreshlyPreparedOnes(String name) {
        try (LlamaCheckpoint ckpt = open(SharedModels.require(name), name); Parallel p = new Parallel(2)) {
            List<GptqLinear> layers = gptqLayers(ckpt);
            PreparedCache cache = PreparedCache.at(tmp.resolve("cache"), log).withSources(ckpt.store().files());
            PreparedCache.Prepared built = cache.prepare(layers, p);
            assertThat(logText()).contains("prepared into");
            assertThat(built.mapping()).isNotNull();
            assertSameAsFresh(layers, built);
            PreparedCache.Prepared mapped = cache.prepare(layers, p);
            assertThat(logText()).contains("mapped from");
            assertThat(mapped.mapping()).isNotNull();
            assertSameAsFresh(layers, mapped);
            built.close();
            mapped.close();
            assertThat(cacheFiles()).hasSize(1);
        }
    }

    @Test
    void offPreparesInMemory() {
        try (LlamaCheckpoint ckpt = fixture(); Parallel p = new Parallel(2)) {
            List<GptqLinear> layers = gptqLayers(ckpt);
            PreparedCache.Prepared m = PreparedCache.OFF.prepare(layers, p);
            assertThat(m.mapping()).isNull();
            assertSameAsFresh(layers, m);
            m.close();
        }
    }

    @Test
    void truncatedWrongVersionOrCorruptFilesAreRebuilt() throws IOException {
        try (LlamaCheckpoint ckpt = fixture(); Parallel p = new Parallel(2)) {
            List<GptqLinear> layers = gptqLayers(ckpt);
            PreparedCache cache = PreparedCache.at(tmp.resolve("cache"), log).withSources(ckpt.store().files());
            cache.prepare(layers, p).close();
            Path file = cacheFiles().getFirst();
            long size = Files.size(file);

            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(size / 2);
            }
            expectRebuilt(cache, layers, p, "size " + size / 2);
            assertThat(Files.size(file)).isEqualTo(size);

            overwriteInt(file, 8, PreparedCache.LAYOUT_VERSION + 1);
            expectRebuilt(cache, layers, p, "layout version " + (PreparedCache.LAYOUT_VERSION + 1));

            overwriteInt(file, 0, 0x12345678);
            expectRebuilt(cache, layers, p, "not a prepared-weights file");

            overwriteInt(file, 20, 0x0BADF00D); // inside the fingerprint
            expectRebuilt(cache, layers, p, "fingerprint differs");

            overwriteInt(file, PreparedCache.FIXED_HEADER + 4, 12345); // first layer's out features
            expectRebuilt(cache, layers, p, "does not match its entry");
        }
    }

    @Test
    void changedSourceFileIsRebuilt() throws IOException {
        Path dir = copyFixture("stories260K-gptq-4bit-32g-actorder");
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(dir); Parallel p = new Parallel(2)) {
            List<GptqLinear> layers = gptqLayers(ckpt);
            PreparedCache cache = PreparedCache.at(tmp.resolve("cache"), log).withSources(ckpt.store().files());
            cache.prepare(layers, p).close();
            Path weights = ckpt.store().files().getFirst();

            Files.setLastModifiedTime(weights, FileTime.fromMillis(Files.getLastModifiedTime(weights).toMillis() - 60_000));
            expectRebuilt(cache, layers, p, "fingerprint differs");

            Files.write(weights, new byte[8], StandardOpenOption.APPEND); // size changes, tensors stay where they were
            expectRebuilt(cache, layers, p, "fingerprint differs");
            assertThat(cacheFiles()).hasSize(1);
        }
    }

    @Test
    void concurrentFirstLoadsLeaveOneCompleteFile() throws Exception {
        try (LlamaCheckpoint ckpt = fixture()) {
            List<GptqLinear> layers = gptqLayers(ckpt);
            PreparedCache cache = PreparedCache.at(tmp.resolve("cache"), log).withSources(ckpt.store().files());
            int threads = 4;
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<PreparedCache.Prepared>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    results.add(pool.submit(() -> {
                        go.await();
                        try (Parallel p = new Parallel(1)) {
                            return cache.prepare(layers, p);
                        }
                    }));
                }
                go.countDown();
                for (Future<PreparedCache.Prepared> f : results) {
                    PreparedCache.Prepared m = f.get();
                    assertThat(m.mapping()).isNotNull();
                    assertSameAsFresh(layers, m);
                    m.close();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(cacheFiles()).hasSize(1);
            try (Stream<Path> all = Files.list(tmp.resolve("cache"))) {
                assertThat(all.map(f -> f.getFileName().toString())).allMatch(n -> n.endsWith(PreparedCache.SUFFIX));
            }
            try (Parallel p = new Parallel(1)) {
                PreparedCache.Prepared again = cache.prepare(layers, p);
                assertThat(logText()).contains("mapped from").doesNotContain("stale");
                assertSameAsFresh(layers, again);
                again.close();
            }
        }
    }

    @Test
    void anUnwritableDirectoryFallsBackToMemoryWithOneWarning() throws IOException {
        Path notADirectory = Files.writeString(tmp.resolve("file"), "x"); // root ignores permissions; this it cannot
        try (LlamaCheckpoint ckpt = fixture(); Parallel p = new Parallel(2)) {
            List<GptqLinear> layers = gptqLayers(ckpt);
            PreparedCache cache = PreparedCache.at(notADirectory.resolve("prepared"), log)
                    .withSources(ckpt.store().files());
            PreparedCache.Prepared m = cache.prepare(layers, p);
            assertThat(m.mapping()).isNull();
            assertSameAsFresh(layers, m);
            m.close();
            assertThat(logText().lines().filter(l -> l.contains("cannot be used"))).hasSize(1);
            assertThat(logText()).contains("preparing the GPTQ layers in memory");
        }
    }

    @Test
    void weightsWithoutSourceFilesAreFingerprintedByContent() {
        try (LlamaCheckpoint ckpt = fixture(); Parallel p = new Parallel(2)) {
            List<GptqLinear> layers = gptqLayers(ckpt);
            PreparedCache cache = PreparedCache.at(tmp.resolve("cache"), log);
            cache.prepare(layers, p).close();
            PreparedCache.Prepared m = cache.prepare(layers, p);
            assertThat(logText()).contains("mapped from");
            assertSameAsFresh(layers, m);
            m.close();
        }
    }

    @Test
    void cpuLlamaThroughTheCacheGivesTheSameLogits() {
        int[] prompt = {1, 403, 407, 261, 378, 432, 383, 286};
        try (LlamaCheckpoint ckpt = fixture(); Parallel p = new Parallel(2)) {
            PreparedCache cache = PreparedCache.at(tmp.resolve("cache"), log).withSources(ckpt.store().files());
            float[] memory, cold, warm;
            try (CpuLlama llama = new CpuLlama(ckpt.weights(), p)) {
                memory = run(llama, prompt);
            }
            try (CpuLlama llama = new CpuLlama(ckpt.weights(), p, cache)) {
                cold = run(llama, prompt);
            }
            try (CpuLlama llama = new CpuLlama(ckpt.weights(), p, cache)) {
                warm = run(llama, prompt);
                llama.close(); // twice: harmless
            }
            // Same tiles (asserted byte for byte above); the JIT may order float reductions differently from one run
            // to the next, and the f16 KV cache rounds what differs, so not bit for bit.
            float max = 0;
            for (float v : memory) max = Math.max(max, Math.abs(v));
            for (int i = 0; i < memory.length; i++) {
                assertThat(Math.abs(cold[i] - memory[i])).as("cold, logit %d", i).isLessThanOrEqualTo(1e-3f * (1 + max));
                assertThat(Math.abs(warm[i] - memory[i])).as("warm, logit %d", i).isLessThanOrEqualTo(1e-3f * (1 + max));
            }
        }
    }

    private static float[] run(CpuLlama llama, int[] prompt) {
        PagedKvStore kv = llama.newKvStore(1, 16);
        return llama.forward(kv, List.of(new io.paddock.runtime.StepChunk(new int[] {0}, prompt, 0, true)))[0];
    }

    private void expectRebuilt(PreparedCache cache, List<GptqLinear> layers, Parallel p, String reason) {
        logBytes.reset();
        PreparedCache.Prepared m = cache.prepare(layers, p);
        assertThat(logText()).contains("is stale").contains(reason).contains("prepared into");
        assertSameAsFresh(layers, m);
        m.close();
        logBytes.reset();
        PreparedCache.Prepared again = cache.prepare(layers, p);
        assertThat(logText()).contains("mapped from");
        again.close();
    }

    private static void overwriteInt(Path file, long at, int value) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).flip();
            ch.write(b, at);
        }
    }

    /** Every layer: tiles byte for byte, permutation, group tables, block size and bias as prepared in memory. */
    private static void assertSameAsFresh(List<GptqLinear> layers, PreparedCache.Prepared prepared) {
        assertThat(prepared.matrices()).hasSize(layers.size());
        for (int i = 0; i < layers.size(); i++) {
            try (GptqMatrix fresh = GptqMatrix.prepare(layers.get(i))) {
                GptqMatrix m = prepared.matrices()[i];
                String what = layers.get(i).name();
                assertThat(m.tiles.byteSize()).as(what).isEqualTo(fresh.tiles.byteSize());
                assertThat(m.tiles.mismatch(fresh.tiles)).as(what).isEqualTo(-1L);
                assertThat(m.perm).as(what).isEqualTo(fresh.perm);
                assertThat(m.groupUnits).as(what).isEqualTo(fresh.groupUnits);
                assertThat(m.groupUnitStart).as(what).isEqualTo(fresh.groupUnitStart);
                assertThat(m.blockBytes).as(what).isEqualTo(fresh.blockBytes);
                assertThat(m.bias).as(what).isEqualTo(fresh.bias);
                assertThat(m.in).isEqualTo(fresh.in);
                assertThat(m.out).isEqualTo(fresh.out);
                assertThat(m.groups).isEqualTo(fresh.groups);
            }
        }
    }

    private List<Path> cacheFiles() {
        try (Stream<Path> s = Files.list(tmp.resolve("cache"))) {
            return s.filter(f -> f.toString().endsWith(PreparedCache.SUFFIX)).toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private String logText() {
        return logBytes.toString(StandardCharsets.UTF_8);
    }

    private static LlamaCheckpoint fixture() {
        return LlamaCheckpoint.open(SharedModels.require("stories260K-gptq-4bit-32g-actorder"));
    }

    private static LlamaCheckpoint open(Path dir, String name) {
        return LlamaCheckpoint.open(dir, name.contains("legacy") ? new GptqOverrides(4, 32, null) : GptqOverrides.NONE);
    }

    private Path copyFixture(String name) throws IOException {
        Path src = SharedModels.require(name), dst = tmp.resolve(name);
        Files.createDirectories(dst);
        try (Stream<Path> s = Files.list(src)) {
            for (Path f : s.toList()) if (Files.isRegularFile(f)) Files.copy(f, dst.resolve(f.getFileName()));
        }
        return dst;
    }

    private static List<GptqLinear> gptqLayers(LlamaCheckpoint ckpt) {
        List<GptqLinear> out = new ArrayList<>();
        for (LayerWeights l : ckpt.weights().layers()) {
            for (Linear lin : List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down())) {
                if (lin instanceof GptqLinear g) out.add(g);
            }
        }
        return out;
    }
}
