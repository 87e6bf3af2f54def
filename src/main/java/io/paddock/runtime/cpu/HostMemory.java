package io.paddock.runtime.cpu;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Physical memory this process could still take: Linux's {@code MemAvailable} (free memory plus page cache that can
 * be dropped), or, inside a container whose memory limit is below the machine's, what is left of that limit; where
 * {@code /proc/meminfo} is missing, the JVM's {@code OperatingSystemMXBean} free memory (container-aware).
 */
final class HostMemory {
    private HostMemory() {}

    /** Bytes available now; never negative. */
    static long availableBytes() {
        long osFree = -1, osTotal = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            osFree = os.getFreeMemorySize();
            osTotal = os.getTotalMemorySize();
        }
        long[] meminfo = meminfo(Path.of("/proc/meminfo"));
        if (meminfo != null) {
            long memTotal = meminfo[0], memAvailable = meminfo[1];
            // A cgroup limit below the machine's memory: the JVM reports the container's total and free.
            if (osTotal > 0 && osTotal < memTotal && osFree >= 0) return Math.max(0, Math.min(memAvailable, osFree));
            return memAvailable;
        }
        return Math.max(0, osFree);
    }

    /** {MemTotal, MemAvailable} in bytes, or null where the file or either line is missing. */
    static long[] meminfo(Path file) {
        try {
            return parseMeminfo(Files.readAllLines(file));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static long[] parseMeminfo(List<String> lines) {
        long total = -1, available = -1;
        for (String line : lines) {
            if (line.startsWith("MemTotal:")) total = kib(line);
            else if (line.startsWith("MemAvailable:")) available = kib(line);
        }
        return total < 0 || available < 0 ? null : new long[] {total, available};
    }

    private static long kib(String line) {
        String[] parts = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
        return Long.parseLong(parts[0]) * 1024;
    }
}
