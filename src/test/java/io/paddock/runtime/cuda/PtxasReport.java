package io.paddock.runtime.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code ptxas -v} reports for one module on one architecture, and the limits a kernel must meet there to
 * launch at all. The limits are the same on every architecture we target (sm_80, sm_86, sm_89, sm_90; CUDA C++
 * Programming Guide, "Technical Specifications per Compute Capability", and the occupancy calculator's register
 * allocation granularity).
 */
record PtxasReport(String arch, Map<String, Function> functions, List<String> errors) {

    /** Static {@code __shared__} per block; more needs dynamic shared memory and an opt-in attribute. */
    static final int MAX_STATIC_SMEM = 48 * 1024;
    /** 32-bit registers one block may hold. */
    static final int MAX_BLOCK_REGISTERS = 64 * 1024;
    /** 32-bit registers one thread may address. */
    static final int MAX_THREAD_REGISTERS = 255;
    /** Registers are handed out per warp, in units of 256 (8 per thread), so 33 registers cost as much as 40. */
    static final int WARP_REGISTER_UNIT = 256;
    static final int WARP = 32;

    /**
     * One function's resources. Non-entry functions (those ptxas did not inline, e.g. libdevice slow paths) have
     * only a stack frame and spill counts; {@code registers} and {@code staticSmem} are -1 for them.
     */
    record Function(String name, boolean entry, int registers, int staticSmem, int stackFrame, int spillStores,
                    int spillLoads) {}

    private static final Pattern ENTRY = Pattern.compile("Compiling entry function '([^']+)'");
    private static final Pattern PROPERTIES = Pattern.compile("Function properties for (\\S+)");
    private static final Pattern FRAME = Pattern.compile(
            "(\\d+) bytes stack frame, (\\d+) bytes spill stores, (\\d+) bytes spill loads");
    private static final Pattern USED = Pattern.compile("Used (\\d+) registers");
    private static final Pattern SMEM = Pattern.compile("(\\d+) bytes smem");

    /** Parses the log of {@code nvcc -cubin -Xptxas -v}; ptxas reports even for a module it then refuses. */
    static PtxasReport parse(String arch, String log) {
        Map<String, int[]> frames = new LinkedHashMap<>();   // name -> {stack, spill stores, spill loads}
        Map<String, int[]> used = new LinkedHashMap<>();     // entry -> {registers, smem}
        List<String> errors = new ArrayList<>();
        String entry = null;
        String properties = null;
        for (String line : log.lines().toList()) {
            Matcher m;
            if (line.contains("ptxas error") || line.contains("ptxas fatal")) errors.add(line.strip());
            if ((m = ENTRY.matcher(line)).find()) {
                entry = m.group(1);
                used.put(entry, new int[] {-1, 0});
            } else if ((m = PROPERTIES.matcher(line)).find()) {
                properties = m.group(1);
            } else if ((m = FRAME.matcher(line)).find() && properties != null) {
                frames.put(properties, new int[] {
                    Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))});
                properties = null;
            } else if ((m = USED.matcher(line)).find() && entry != null) {
                Matcher s = SMEM.matcher(line);
                used.put(entry, new int[] {Integer.parseInt(m.group(1)), s.find() ? Integer.parseInt(s.group(1)) : 0});
                entry = null;
            }
        }
        Map<String, Function> functions = new LinkedHashMap<>();
        for (String name : union(used.keySet(), frames.keySet())) {
            int[] u = used.get(name);
            int[] f = frames.getOrDefault(name, new int[3]);
            functions.put(name, new Function(name, u != null, u == null ? -1 : u[0], u == null ? -1 : u[1], f[0], f[1],
                    f[2]));
        }
        return new PtxasReport(arch, Map.copyOf(functions), List.copyOf(errors));
    }

    private static List<String> union(Iterable<String> a, Iterable<String> b) {
        List<String> names = new ArrayList<>();
        for (String n : a) if (!names.contains(n)) names.add(n);
        for (String n : b) if (!names.contains(n)) names.add(n);
        return names;
    }

    /** Registers a block of {@code threads} threads takes when each thread uses {@code registers}. */
    static int blockRegisters(int registers, int threads) {
        int perWarp = Math.ceilDiv(registers * WARP, WARP_REGISTER_UNIT) * WARP_REGISTER_UNIT;
        return Math.ceilDiv(threads, WARP) * perWarp;
    }

    /** Every reason an entry cannot launch with {@code maxBlockThreads} threads, or runs with spills; empty if none. */
    static List<String> violations(Function f, int maxBlockThreads) {
        List<String> v = new ArrayList<>(spills(f));
        if (f.staticSmem() > MAX_STATIC_SMEM) {
            v.add(f.name() + ": " + f.staticSmem() + " bytes of static shared memory, over the " + MAX_STATIC_SMEM
                    + " a block may declare");
        }
        if (f.registers() > MAX_THREAD_REGISTERS) {
            v.add(f.name() + ": " + f.registers() + " registers per thread, over " + MAX_THREAD_REGISTERS);
        }
        int block = blockRegisters(f.registers(), maxBlockThreads);
        if (block > MAX_BLOCK_REGISTERS) {
            v.add(f.name() + ": " + f.registers() + " registers × " + maxBlockThreads + " threads = " + block
                    + " registers per block, over " + MAX_BLOCK_REGISTERS + " (launch fails with OUT_OF_RESOURCES);"
                    + " at most " + maxThreads(f.registers()) + " threads fit");
        }
        return v;
    }

    /** Spills, which any function (entry or not) must not have: they put the hot loop's values in local memory. */
    static List<String> spills(Function f) {
        if (f.spillStores() == 0 && f.spillLoads() == 0) return List.of();
        return List.of(f.name() + ": " + f.spillStores() + " bytes spill stores, " + f.spillLoads()
                + " bytes spill loads");
    }

    /** The most threads (whole warps) a block may have at {@code registers} per thread. */
    static int maxThreads(int registers) {
        int warps = 0;
        while (warps < 1024 / WARP && blockRegisters(registers, (warps + 1) * WARP) <= MAX_BLOCK_REGISTERS) warps++;
        return warps * WARP;
    }
}
