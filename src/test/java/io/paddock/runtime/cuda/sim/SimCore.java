package io.paddock.runtime.cuda.sim;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The emulator's runtime library ({@value NativeToolchain#CORE_LIBRARY}) and the module builds that link against
 * it. Loaded once per JVM into the global arena, the one static native state of this package: every module
 * library resolves the core through its SONAME to this very copy (one worker pool, one error slot per thread),
 * and it must outlive any module a test forgot to close.
 */
final class SimCore {
    private static SimCore loaded; // guarded by SimCore.class; only a successful load is kept, so a fix can retry

    private final MethodHandle setWorkers;
    private final MethodHandle lastError;

    private SimCore(Path library) {
        Linker linker = Linker.nativeLinker();
        SymbolLookup core = SymbolLookup.libraryLookup(library, Arena.global());
        this.setWorkers = linker.downcallHandle(symbol(core, "paddock_sim_set_workers"), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        this.lastError = linker.downcallHandle(symbol(core, "paddock_sim_last_error"), FunctionDescriptor.of(ADDRESS));
    }

    private static MemorySegment symbol(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new IllegalStateException(NativeToolchain.CORE_LIBRARY + " does not export " + name));
    }

    /**
     * The core, built (or taken from the build cache) and loaded on first use. Throws where it cannot be: with the
     * environment's reason where there is no compiler, with the compiler's output where the emulator does not build.
     */
    static synchronized SimCore load() {
        if (loaded == null) {
            NativeToolchain.unavailableReason().ifPresent(why -> {
                throw new IllegalStateException("the simulated CUDA device is unavailable: " + why);
            });
            loaded = new SimCore(retryingRaces(NativeToolchain::coreLibrary));
        }
        return loaded;
    }

    /**
     * Where the environment cannot run the emulator (no g++, no emulator sources), why; a broken emulator build is
     * not such a reason, so it fails the tests instead of skipping them.
     */
    static Optional<String> unavailableReason() {
        return NativeToolchain.unavailableReason();
    }

    /** Sizes the core's worker pool; process-wide, as the pool is. */
    void setWorkers(int n) {
        int rc;
        try {
            rc = (int) setWorkers.invokeExact(n);
        } catch (Throwable t) {
            throw new IllegalStateException("paddock_sim_set_workers", t);
        }
        if (rc != 0) throw new IllegalArgumentException("paddock_sim_set_workers(" + n + "): " + lastError());
    }

    /**
     * The calling thread's last launch error. The core keeps it per OS thread, so this must follow the failed call
     * on the same thread with nothing in between: nothing between the two downcalls blocks, so even a virtual
     * thread is still on the carrier that made the launch.
     */
    String lastError() {
        try {
            MemorySegment s = (MemorySegment) lastError.invokeExact();
            return s.equals(MemorySegment.NULL) ? "(no error message)" : s.reinterpret(Integer.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException("paddock_sim_last_error", t);
        }
    }

    /** The shared library of one module, linked against this core (cached by content). */
    Path compile(SimModuleSource tu) {
        String base = tu.fileName().endsWith(".cu") ? tu.fileName().substring(0, tu.fileName().length() - 3) : tu.fileName();
        return retryingRaces(() -> NativeToolchain.sharedLibrary("cudasim_" + base.replace('.', '_'), tu.text(), List.of()));
    }

    /**
     * Runs a build once more where it lost a race with another JVM building the same thing: the toolchain's final
     * rename then fails with a plain FileSystemException ("Directory not empty", which it does not recognise as the
     * lost race), and the retry finds the winner's output in the cache. A real build error fails both times.
     */
    private static Path retryingRaces(Supplier<Path> build) {
        try {
            return build.get();
        } catch (UncheckedIOException first) {
            try {
                return build.get();
            } catch (RuntimeException again) {
                again.addSuppressed(first);
                throw again;
            }
        }
    }
}
