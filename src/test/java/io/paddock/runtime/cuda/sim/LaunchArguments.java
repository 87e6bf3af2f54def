package io.paddock.runtime.cuda.sim;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Reusable native buffers for one launch's arguments, laid out as cuLaunchKernel receives them from JCuda's
 * {@code Pointer.to(Pointer.to(int[]), Pointer.to(long[]), ...)}: every argument's bytes in its own 8-byte-aligned
 * slot, in host (little-endian) order, and an array of pointers to the slots. The pointer array never changes, so
 * a launch only rewrites the slots and the sizes. Launches are frequent; nothing is allocated per launch.
 */
final class LaunchArguments {
    private static final int SLOT = 8;

    private final int capacity;
    private final MemorySegment pointers;
    private final MemorySegment sizes;
    private final MemorySegment slots;

    LaunchArguments(Arena arena, int capacity) {
        this.capacity = capacity;
        this.pointers = arena.allocate(ADDRESS, capacity);
        this.sizes = arena.allocate(JAVA_INT, capacity);
        this.slots = arena.allocate((long) SLOT * capacity, SLOT);
        for (int i = 0; i < capacity; i++) pointers.setAtIndex(ADDRESS, i, slots.asSlice((long) SLOT * i, SLOT));
    }

    int capacity() {
        return capacity;
    }

    /** Argument {@code i}: the low {@code bytes} (4 or 8) of {@code raw}; the rest of its slot is zeroed. */
    void put(int i, int bytes, long raw) {
        long off = (long) SLOT * i;
        switch (bytes) {
            case 4 -> {
                slots.set(JAVA_LONG, off, 0L);
                slots.set(JAVA_INT, off, (int) raw);
            }
            case 8 -> slots.set(JAVA_LONG, off, raw);
            default -> throw new IllegalArgumentException("argument " + i + " of " + bytes + " bytes");
        }
        sizes.setAtIndex(JAVA_INT, i, bytes);
    }

    /** The {@code void** params} of the launch. */
    MemorySegment params() {
        return pointers;
    }

    /** The {@code const int* sizes} of the launch. */
    MemorySegment sizes() {
        return sizes;
    }
}
