package io.paddock.runtime.cuda.sim;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The build cache must rebuild exactly when an input changes, and report compiler errors with their output. */
class NativeToolchainTests {
    private static final String MODULE = """
            #include "cuda_sim.h"
            #include "probe_value.h"
            extern "C" __global__ void probe(int* out) { out[threadIdx.x] = PROBE_VALUE + (int)threadIdx.x; }
            PADDOCK_SIM_EXPORT(probe)
            """;

    @BeforeEach
    void requireCompiler() {
        var why = NativeToolchain.unavailableReason();
        assumeTrue(why.isEmpty(), () -> "skipped: " + why.orElse(""));
    }

    @Test
    void aChangedIncludedHeaderRebuildsAndRestoringItIsACacheHit() throws Throwable {
        // a fixed place under target/, so repeated runs hit the cache instead of compiling a new path each time
        Path dir = Files.createDirectories(Path.of("target/cudasim-probe").toAbsolutePath());
        Path header = dir.resolve("probe_value.h");
        List<String> flags = List.of("-I" + dir);
        Files.writeString(header, "#define PROBE_VALUE 100\n");
        Path first = NativeToolchain.sharedLibrary("toolchain_probe", MODULE, flags);
        assertThat(NativeToolchain.sharedLibrary("toolchain_probe", MODULE, flags)).isEqualTo(first);
        try {
            Files.writeString(header, "#define PROBE_VALUE 200\n");
            Path changed = NativeToolchain.sharedLibrary("toolchain_probe", MODULE, flags);
            assertThat(changed).isNotEqualTo(first);
            assertThat(launchProbe(changed)).containsExactly(200, 201, 202, 203);
        } finally {
            Files.writeString(header, "#define PROBE_VALUE 100\n");
        }
        assertThat(NativeToolchain.sharedLibrary("toolchain_probe", MODULE, flags)).isEqualTo(first);
        assertThat(launchProbe(first)).containsExactly(100, 101, 102, 103);
    }

    @Test
    void aCompileErrorCarriesTheCompilerOutput() {
        assertThatThrownBy(() -> NativeToolchain.sharedLibrary("toolchain_broken",
                "#include \"cuda_sim.h\"\nint paddock_broken_line = ;\n", List.of()))
                .isInstanceOf(NativeToolchain.BuildException.class)
                .hasMessageContaining("error:").hasMessageContaining("paddock_broken_line");
    }

    /** Launches probe over one block of 4 threads through the module's C ABI, as the Java device does. */
    private static int[] launchProbe(Path library) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(library, arena);
            MethodHandle launch = Linker.nativeLinker().downcallHandle(lookup.find("paddock_sim_launch_probe").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS,
                            ADDRESS, JAVA_INT));
            MemorySegment out = arena.allocate(JAVA_INT, 4);
            MemorySegment arg = arena.allocate(ADDRESS);   // argument 0's bytes: the pointer value
            arg.set(ADDRESS, 0, out);
            MemorySegment params = arena.allocate(ADDRESS);
            params.set(ADDRESS, 0, arg);
            MemorySegment sizes = arena.allocate(JAVA_INT);
            sizes.set(JAVA_INT, 0, 8);
            int rc = (int) launch.invokeExact(1, 1, 1, 4, 1, 1, params, sizes, 1);
            assertThat(rc).isZero();
            return out.toArray(JAVA_INT);
        }
    }
}
