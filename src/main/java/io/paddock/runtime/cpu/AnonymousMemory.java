package io.paddock.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Large zeroed memory whose pages the OS supplies as they are first touched: on Linux an anonymous private mapping
 * ({@code mmap} with {@code MAP_NORESERVE}, unmapped when the arena closes), so a KV pool sized for many full
 * contexts costs neither the time to zero it at start nor resident memory until it is used. Elsewhere, or where
 * the mapping cannot be made, an ordinary (eagerly zeroed) arena allocation.
 */
final class AnonymousMemory {
    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
    private static final MethodHandle MMAP, MUNMAP;

    static {
        MethodHandle mmap = null, munmap = null;
        if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            } catch (RuntimeException | LinkageError e) {
                mmap = null;
                munmap = null;
            }
        }
        MMAP = mmap;
        MUNMAP = munmap;
    }

    private AnonymousMemory() {}

    /** {@code bytes} of zeroed memory (page-aligned where mapped, else 64-byte aligned), freed when {@code arena} closes. */
    static MemorySegment allocate(Arena arena, long bytes) {
        if (MMAP != null) {
            MemorySegment p;
            try {
                p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            } catch (Throwable t) {
                throw new IllegalStateException("mmap failed", t);
            }
            if (p.address() != -1L && p.address() != 0L) {
                return p.reinterpret(bytes, arena, s -> unmap(s.address(), bytes));
            }
            // MAP_FAILED: fall through to the arena, which fails with an OutOfMemoryError where memory is short
        }
        return arena.allocate(bytes, 64);
    }

    /** Whether allocations come from lazily committed mappings (for tests and logs). */
    static boolean lazy() {
        return MMAP != null;
    }

    private static void unmap(long address, long bytes) {
        try {
            int rc = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), bytes);
            if (rc != 0) throw new IllegalStateException("munmap of " + bytes + " bytes failed");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("munmap failed", t);
        }
    }
}
