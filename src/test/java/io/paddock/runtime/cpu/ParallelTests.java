package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ParallelTests {
    @Test
    void coversEveryIndexOnceWithGrainAlignedChunks() {
        for (int threads = 1; threads <= 4; threads++) {
            try (Parallel p = new Parallel(threads)) {
                for (int grain : new int[] {1, 4, 7}) {
                    for (int n : new int[] {0, 1, 2, 3, grain - 1, grain, grain + 1, 2 * grain + 1, 100, 1001}) {
                        if (n < 0) continue;
                        AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
                        AtomicInteger chunks = new AtomicInteger();
                        int g = grain, size = n;
                        p.forRange(n, grain, (s, e) -> {
                            assertThat(s).isLessThan(e);
                            assertThat(s % g).isZero();
                            assertThat(e % g == 0 || e == size).isTrue();
                            chunks.incrementAndGet();
                            for (int i = s; i < e; i++) hits.incrementAndGet(i);
                        });
                        for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("n=%d grain=%d i=%d", n, grain, i).isEqualTo(1);
                        assertThat(chunks.get()).isLessThanOrEqualTo(threads);
                        if (n <= grain || threads == 1) assertThat(chunks.get()).isLessThanOrEqualTo(1);
                    }
                }
            }
        }
    }

    @Test
    void splitsAcrossThreads() {
        try (Parallel p = new Parallel(3)) {
            assertThat(p.threads()).isEqualTo(3);
            Set<String> names = ConcurrentHashMap.newKeySet();
            CountDownLatch all = new CountDownLatch(3);
            p.forRange(3, 1, (s, e) -> {
                names.add(Thread.currentThread().getName());
                all.countDown();
                try {
                    all.await();   // only returns if the three chunks really run at once
                } catch (InterruptedException ex) {
                    throw new RuntimeException(ex);
                }
            });
            assertThat(names).hasSize(3);
        }
    }

    @Test
    void propagatesWorkerAndCallerExceptionsAndStaysUsable() {
        try (Parallel p = new Parallel(3)) {
            assertThatThrownBy(() -> p.forRange(30, 1, (s, e) -> {
                if (s >= 20) throw new IllegalStateException("worker boom");
            })).isInstanceOf(IllegalStateException.class).hasMessage("worker boom");
            assertThatThrownBy(() -> p.forRange(30, 1, (s, e) -> {
                if (s == 0) throw new ArithmeticException("caller boom");
            })).isInstanceOf(ArithmeticException.class).hasMessage("caller boom");
            assertThatThrownBy(() -> p.forRange(30, 1, (s, e) -> {
                throw new AssertionError("everyone");
            })).isInstanceOf(AssertionError.class);
            AtomicLong sum = new AtomicLong();
            p.forRange(30, 1, (s, e) -> {
                for (int i = s; i < e; i++) sum.addAndGet(i);
            });
            assertThat(sum.get()).isEqualTo(435);
        }
    }

    @Test
    void nestedCallsRunInline() {
        try (Parallel p = new Parallel(2)) {
            AtomicInteger total = new AtomicInteger();
            p.forRange(10, 1, (s, e) -> {
                for (int i = s; i < e; i++) p.forRange(10, 1, (s2, e2) -> total.addAndGet(e2 - s2));
            });
            assertThat(total.get()).isEqualTo(100);
        }
    }

    @Test
    void manyRapidCallsWithAndWithoutSpinning() {
        for (long spin : new long[] {Parallel.DEFAULT_SPIN_NANOS, 0}) {
            try (Parallel p = new Parallel(3, spin)) {
                long[] cells = new long[3];
                int calls = spin == 0 ? 5_000 : 20_000;
                for (int k = 0; k < calls; k++) {
                    p.forRange(3, 1, (s, e) -> {
                        for (int i = s; i < e; i++) cells[i]++;
                    });
                }
                assertThat(cells).containsOnly(calls);
            }
        }
    }

    @Test
    void concurrentCallersBothComplete() throws Exception {
        try (Parallel p = new Parallel(2)) {
            AtomicLong total = new AtomicLong();
            Runnable caller = () -> {
                for (int k = 0; k < 5_000; k++) p.forRange(64, 8, (s, e) -> total.addAndGet(e - s));
            };
            Thread other = new Thread(caller);
            other.start();
            caller.run();
            other.join();
            assertThat(total.get()).isEqualTo(2L * 5_000 * 64);
        }
    }

    @Test
    void closeStopsWorkersAndRejectsLaterCalls() {
        Parallel p = new Parallel(3, 0);
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        CountDownLatch all = new CountDownLatch(3);
        p.forRange(3, 1, (s, e) -> {
            seen.add(Thread.currentThread());
            all.countDown();
            try {
                all.await();
            } catch (InterruptedException ex) {
                throw new RuntimeException(ex);
            }
        });
        p.close();
        p.close();
        seen.remove(Thread.currentThread());
        assertThat(seen).hasSize(2).noneMatch(Thread::isAlive);
        assertThatThrownBy(() -> p.forRange(9, 1, (s, e) -> {})).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> new Parallel(0)).isInstanceOf(IllegalArgumentException.class);
        try (Parallel p = new Parallel(2)) {
            assertThatThrownBy(() -> p.forRange(-1, 1, (s, e) -> {})).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> p.forRange(5, 0, (s, e) -> {})).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
