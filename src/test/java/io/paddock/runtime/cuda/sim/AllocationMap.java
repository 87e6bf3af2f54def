package io.paddock.runtime.cuda.sim;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The live allocations of a {@link SimulatedDevice} by start address, so that any address can be resolved to the one
 * allocation that holds it. Pure bookkeeping: it neither allocates nor frees memory.
 */
final class AllocationMap {

    /** One live allocation: {@code bytes} usable from {@code address}; {@code charged} counted against capacity. */
    record Allocation(long address, long bytes, long charged) {
        long end() {
            return address + bytes;
        }

        boolean holds(long start, long length) {
            return start >= address && length >= 0 && start - address <= bytes - length;
        }
    }

    private final TreeMap<Long, Allocation> live = new TreeMap<>();
    private long charged;
    private long peak;

    void add(Allocation a) {
        Map.Entry<Long, Allocation> below = live.floorEntry(a.address() + a.bytes() - 1);
        if (below != null && below.getValue().end() > a.address()) {
            throw new IllegalStateException("allocation " + describe(a) + " overlaps live " + describe(below.getValue()));
        }
        live.put(a.address(), a);
        charged += a.charged();
        peak = Math.max(peak, charged);
    }

    /** Removes the allocation that starts exactly at {@code address}; fails for any other address. */
    Allocation remove(long address) {
        Allocation a = live.remove(address);
        if (a == null) {
            Allocation inside = containing(address);
            throw new IllegalStateException(inside == null
                    ? "free of 0x" + Long.toHexString(address) + ": no live allocation there (double free, or never allocated)"
                    : "free of 0x" + Long.toHexString(address) + ": inside " + describe(inside) + ", not its start");
        }
        charged -= a.charged();
        return a;
    }

    /** The live allocation whose range holds {@code address}, or null. */
    Allocation containing(long address) {
        Map.Entry<Long, Allocation> e = live.floorEntry(address);
        return e != null && e.getValue().holds(address, 1) ? e.getValue() : null;
    }

    /**
     * Checks that {@code [address, address + length)} lies inside one live allocation; otherwise fails with
     * {@code what} (e.g. "copyToHost source") and the nearest allocation, which usually shows the off-by-what.
     */
    Allocation require(long address, long length, Supplier<String> what) {
        Map.Entry<Long, Allocation> e = live.floorEntry(address);
        if (e != null && e.getValue().holds(address, length)) return e.getValue();
        String range = "0x" + Long.toHexString(address) + (length == 0 ? "" : " + " + length + " bytes");
        String near = e == null ? "no live allocation at or below it"
                : e.getValue().holds(address, 1) ? "overruns " + describe(e.getValue())
                : "nearest below is " + describe(e.getValue());
        throw new IllegalStateException(what.get() + ": " + range + " is outside every live device allocation (" + near
                + "); the real driver would fault or silently corrupt memory here");
    }

    /**
     * Checks that a pointer argument points into a live allocation; one past its end counts, as C allows such a
     * pointer (e.g. an empty slice at the end of a buffer) as long as nothing reads through it.
     */
    Allocation requirePointer(long address, Supplier<String> what) {
        return require(address, 0, what);
    }

    int size() {
        return live.size();
    }

    /** Bytes charged against capacity by the live allocations. */
    long charged() {
        return charged;
    }

    /** The most ever charged at once (or since {@link #resetPeak()}). */
    long peak() {
        return peak;
    }

    void resetPeak() {
        peak = charged;
    }

    /** The live allocations, lowest address first (a copy, so callers may free while iterating). */
    List<Allocation> snapshot() {
        return List.copyOf(live.values());
    }

    static String describe(Allocation a) {
        return "[0x" + Long.toHexString(a.address()) + ", 0x" + Long.toHexString(a.end()) + ") of " + a.bytes() + " bytes";
    }
}
