package io.paddock.loading;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class RuntimeSelectionTests {
    private static final Supplier<Optional<String>> AVAILABLE = Optional::empty;
    private static final Supplier<Optional<String>> MISSING = () -> Optional.of("no CUDA driver (libcuda.so.1 not found)");

    @Test
    void autoUsesCudaWhereAvailable() {
        assertThat(RuntimeSelection.select("auto", AVAILABLE)).isEqualTo(new RuntimeSelection(true, Optional.empty()));
    }

    @Test
    void autoFallsBackToCpuWithTheReason() {
        RuntimeSelection s = RuntimeSelection.select("auto", MISSING);
        assertThat(s.useCuda()).isFalse();
        assertThat(s.reason()).contains("no CUDA driver (libcuda.so.1 not found)");
    }

    @Test
    void nullOrBlankModeMeansAuto() {
        assertThat(RuntimeSelection.select(null, AVAILABLE).useCuda()).isTrue();
        assertThat(RuntimeSelection.select("  ", MISSING).useCuda()).isFalse();
    }

    @Test
    void cpuNeverProbes() {
        AtomicInteger probes = new AtomicInteger();
        RuntimeSelection s = RuntimeSelection.select("cpu", () -> {
            probes.incrementAndGet();
            return Optional.empty();
        });
        assertThat(s).isEqualTo(new RuntimeSelection(false, Optional.empty()));
        assertThat(probes).hasValue(0);
    }

    @Test
    void cudaWhereAvailable() {
        assertThat(RuntimeSelection.select("CUDA", AVAILABLE).useCuda()).isTrue();
    }

    @Test
    void cudaWhereUnavailableFailsWithTheReason() {
        assertThatThrownBy(() -> RuntimeSelection.select("cuda", MISSING))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("libcuda.so.1 not found");
    }

    @Test
    void unknownModeIsRejected() {
        assertThatThrownBy(() -> RuntimeSelection.select("tpu", AVAILABLE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tpu");
    }
}
