package io.paddock.runtime.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernels of a PTX module and the parameter types of each, in order: what {@code cuLaunchKernel} copies the
 * host's argument bytes into. A scalar or pointer parameter reads {@code .param .u64 name}, {@code .u32},
 * {@code .f32} or {@code .f64} (pointers may carry {@code .ptr} qualifiers after the type); a by-value struct reads
 * {@code .param .align N .b8 name[size]} and is kept whole, so it never matches a {@link KernelSpec.Param}.
 */
final class PtxEntries {
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_$][\\w$]*)\\s*\\(([^)]*)\\)");
    private static final Pattern SCALAR = Pattern.compile("^\\.param\\s+(\\.[usbf]\\d+)\\b");

    private PtxEntries() {}

    /** Entry name → parameter types, in module order. */
    static Map<String, List<String>> parse(String ptx) {
        Map<String, List<String>> entries = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            List<String> types = new ArrayList<>();
            for (String decl : m.group(2).split(",")) {
                String d = decl.strip();
                if (d.isEmpty()) continue;
                Matcher s = SCALAR.matcher(d);
                types.add(s.find() ? s.group(1) : d);
            }
            entries.put(m.group(1), List.copyOf(types));
        }
        return entries;
    }

    /** The PTX types a launcher packs for {@code spec}, in order. */
    static List<String> expected(KernelSpec spec) {
        return spec.params().stream().map(p -> p.ptxType).toList();
    }
}
