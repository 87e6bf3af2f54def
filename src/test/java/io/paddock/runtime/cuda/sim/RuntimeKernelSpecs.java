package io.paddock.runtime.cuda.sim;

import io.paddock.runtime.cuda.KernelSpec;
import java.lang.reflect.Field;
import java.util.List;

/**
 * The runtime's own kernel specs ({@code CudaKernels.ALL}), read reflectively because {@code CudaKernels} is
 * package-private in {@code io.paddock.runtime.cuda}; the tests here must launch with exactly the parameter lists
 * the runtime packs, not a copy that could drift.
 */
final class RuntimeKernelSpecs {
    private RuntimeKernelSpecs() {}

    @SuppressWarnings("unchecked")
    static List<KernelSpec> all() {
        try {
            Field f = Class.forName("io.paddock.runtime.cuda.CudaKernels").getDeclaredField("ALL");
            f.setAccessible(true);
            return (List<KernelSpec>) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("CudaKernels.ALL is not readable; did the runtime rename it?", e);
        }
    }

    static KernelSpec named(String kernel) {
        return all().stream().filter(k -> k.name().equals(kernel)).findFirst()
                .orElseThrow(() -> new IllegalStateException("CudaKernels has no spec for " + kernel));
    }
}
