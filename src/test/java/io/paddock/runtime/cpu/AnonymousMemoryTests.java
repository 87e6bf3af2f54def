package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paddock.runtime.KvCacheDtype;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A large KV pool costs resident memory only for what is written (Linux: anonymous mapping, pages on first touch). */
class AnonymousMemoryTests {

    @Test
    void aGibibyteIsZeroedWritableAndNotResidentUntilTouched() throws IOException {
        assumeTrue(AnonymousMemory.lazy(), "anonymous mappings are used on Linux only");
        long before = rssBytes();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment m = AnonymousMemory.allocate(arena, 1L << 30);
            assertThat(m.byteSize()).isEqualTo(1L << 30);
            assertThat(rssBytes() - before).as("resident after mapping 1 GiB").isLessThan(64L << 20);
            for (long at : new long[] {0, 4096, (1L << 30) - 8}) {
                assertThat(m.get(ValueLayout.JAVA_LONG_UNALIGNED, at)).isZero();
                m.set(ValueLayout.JAVA_LONG_UNALIGNED, at, 0x1234_5678_9abcL + at);
                assertThat(m.get(ValueLayout.JAVA_LONG_UNALIGNED, at)).isEqualTo(0x1234_5678_9abcL + at);
            }
            assertThat(rssBytes() - before).as("resident after touching three pages").isLessThan(64L << 20);
        }
    }

    @Test
    void aKvPoolSizedForManyContextsStartsWithoutTakingItsMemory() throws IOException {
        assumeTrue(AnonymousMemory.lazy(), "anonymous mappings are used on Linux only");
        long before = rssBytes();
        // 7B-shaped: 32 layers, kvDim 4096, f16 — 512 KiB per token; 4096 tokens = 2 GiB
        try (PagedKvStore kv = new PagedKvStore(32, 256, 16, 4096, KvCacheDtype.F16)) {
            assertThat(kv.bytes()).isEqualTo(2L << 30);
            float[] k = new float[4096], v = new float[4096];
            java.util.Arrays.fill(k, 1.5f);
            kv.store(0, new int[] {3}, 5, k, 0, v, 0);
            assertThat(rssBytes() - before).isLessThan(128L << 20);
        }
    }

    private static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
