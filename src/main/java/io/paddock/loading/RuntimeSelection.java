package io.paddock.loading;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Which backend to start, decided from the configured mode ({@code auto|cpu|cuda}) and whether CUDA can be used.
 *
 * @param useCuda whether to start {@link io.paddock.runtime.cuda.CudaRuntime}
 * @param reason  why CUDA is not used (empty when it is, or when the CPU was asked for explicitly)
 */
public record RuntimeSelection(boolean useCuda, Optional<String> reason) {

    public RuntimeSelection {
        Objects.requireNonNull(reason, "reason");
    }

    /**
     * {@code auto}: CUDA where available, else the CPU with the reason; {@code cpu}: the CPU; {@code cuda}: CUDA, or
     * an {@link IllegalStateException} carrying the reason. The probe is only called where the answer matters.
     */
    public static RuntimeSelection select(String mode, Supplier<Optional<String>> unavailable) {
        String m = mode == null ? "auto" : mode.trim().toLowerCase(Locale.ROOT);
        return switch (m) {
            case "cpu" -> new RuntimeSelection(false, Optional.empty());
            case "auto", "" -> {
                Optional<String> why = unavailable.get();
                yield why.isPresent() ? new RuntimeSelection(false, why) : new RuntimeSelection(true, Optional.empty());
            }
            case "cuda", "gpu" -> {
                Optional<String> why = unavailable.get();
                if (why.isPresent()) throw new IllegalStateException("runtime 'cuda' was requested but CUDA is unavailable: " + why.get());
                yield new RuntimeSelection(true, Optional.empty());
            }
            default -> throw new IllegalArgumentException("unknown runtime mode '" + mode + "' (expected auto, cpu or cuda)");
        };
    }
}
