package io.paddock.runtime.cuda.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The C++ translation unit the emulator compiles for one {@code .cu} file: the emulation header, the source
 * unchanged (a {@code #line} directive keeps compiler errors pointing at the {@code .cu} lines) and one export line
 * per kernel, which defines {@code paddock_sim_launch_<kernel>}.
 */
record SimModuleSource(String fileName, List<String> kernels, String text) {

    // Only extern "C" kernels are launchable by name through the driver too (C++ names would be mangled).
    private static final Pattern KERNEL = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+([A-Za-z_]\\w*)\\s*\\(");
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9_.\\-]+");

    SimModuleSource {
        kernels = List.copyOf(kernels);
    }

    static SimModuleSource of(String fileName, String source) {
        if (!SAFE_NAME.matcher(fileName).matches()) {
            // it ends up inside a #line string and in the cache file name
            throw new IllegalArgumentException("module name '" + fileName + "' must match " + SAFE_NAME.pattern());
        }
        List<String> kernels = kernelNames(source);
        StringBuilder sb = new StringBuilder(source.length() + 64 * (kernels.size() + 2));
        sb.append("#include \"cuda_sim.h\"\n");
        sb.append("#line 1 \"").append(fileName).append("\"\n");
        sb.append(source);
        if (!source.endsWith("\n")) sb.append('\n');
        for (String k : kernels) sb.append("PADDOCK_SIM_EXPORT(").append(k).append(")\n");
        return new SimModuleSource(fileName, kernels, sb.toString());
    }

    /** The names of the {@code extern "C" __global__ void} kernels in {@code source}, in order, without repeats. */
    static List<String> kernelNames(String source) {
        List<String> names = new ArrayList<>();
        Matcher m = KERNEL.matcher(source);
        while (m.find()) {
            if (!names.contains(m.group(1))) names.add(m.group(1));
        }
        return names;
    }

    /** The symbol the export line for {@code kernel} defines. */
    static String launchSymbol(String kernel) {
        return "paddock_sim_launch_" + kernel;
    }
}
