package io.paddock.runtime.cuda.sim;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The C heap, for simulated device memory. Not an {@link java.lang.foreign.Arena}: an allocation must be freeable
 * from any thread (the runtime's engine thread is not the one that opened the device), one at a time, in any order,
 * and a shared arena per allocation would make every free a JVM-wide handshake.
 */
final class NativeHeap {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle ALIGNED_ALLOC = libc("aligned_alloc", FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FREE = libc("free", FunctionDescriptor.ofVoid(ADDRESS));

    private NativeHeap() {}

    private static MethodHandle libc(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new IllegalStateException("the C library has no " + name)), fd);
    }

    /** {@code bytes} (a multiple of {@code alignment}) at an {@code alignment}-aligned address, or 0 if the host is out. */
    static long alloc(long alignment, long bytes) {
        try {
            return ((MemorySegment) ALIGNED_ALLOC.invokeExact(alignment, bytes)).address();
        } catch (Throwable t) {
            throw new IllegalStateException("aligned_alloc(" + alignment + ", " + bytes + ")", t);
        }
    }

    static void free(long address) {
        try {
            FREE.invokeExact(MemorySegment.ofAddress(address));
        } catch (Throwable t) {
            throw new IllegalStateException("free(0x" + Long.toHexString(address) + ")", t);
        }
    }
}
