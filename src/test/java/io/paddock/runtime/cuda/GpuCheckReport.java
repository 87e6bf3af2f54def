package io.paddock.runtime.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one report of scripts/gpu-check run: {@code gpu-report.json} (everything, machine-readable) and
 * {@code gpu-report.md} (the same for people), merged from what the steps left behind — the test launcher's
 * results file (one line per finished test, so a run killed for time still counts what finished), the
 * {@link GpuCheckBench} JSON, and nvidia-smi's answers. A missing or partial input is reported as such; this
 * class never fails because a step did.
 *
 * <p>Usage: {@code GpuCheckReport --out DIR [--tests FILE --tests-rc N] [--bench FILE --bench-rc N] [--smi FILE]
 * [--elapsed-s S] [--note TEXT]...}
 */
public final class GpuCheckReport {
    private GpuCheckReport() {}

    /** One finished test as the launcher wrote it: status SUCCESSFUL, FAILED, ABORTED (assumption) or SKIPPED. */
    record TestResult(String status, String name, double seconds, String message) {}

    /**
     * Reads the launcher's results: {@code STATUS<TAB>name<TAB>seconds<TAB>message} lines and a final
     * {@code #SUMMARY<TAB>found} line written when the run completed.
     */
    static Map<String, Object> tests(Path file, Integer exitCode) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("exitCode", exitCode);
        if (file == null || !Files.isRegularFile(file)) {
            t.put("complete", false);
            t.put("error", "no test results (" + file + ")");
            return t;
        }
        List<TestResult> results = new ArrayList<>();
        boolean complete = false;
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank()) continue;
                String[] f = line.split("\t", 4);
                if (f[0].equals("#SUMMARY")) {
                    complete = true;
                    continue;
                }
                if (f.length < 2) continue;
                double secs = f.length > 2 ? parseOr(f[2], 0) : 0;
                results.add(new TestResult(f[0], f[1], secs, f.length > 3 ? f[3] : ""));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long passed = results.stream().filter(r -> r.status().equals("SUCCESSFUL")).count();
        List<Map<String, Object>> failures = new ArrayList<>();
        Map<String, Integer> skipReasons = new TreeMap<>();
        int skipped = 0;
        double total = 0;
        for (TestResult r : results) {
            total += r.seconds();
            if (r.status().equals("FAILED")) {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("name", r.name());
                f.put("message", r.message());
                failures.add(f);
            } else if (r.status().equals("ABORTED") || r.status().equals("SKIPPED")) {
                skipped++;
                skipReasons.merge(r.message().isBlank() ? "(no reason given)" : r.message(), 1, Integer::sum);
            }
        }
        t.put("complete", complete);
        if (!complete) t.put("error", "the test run did not finish (killed for time or crashed): counts cover finished tests only");
        t.put("total", results.size());
        t.put("passed", passed);
        t.put("failed", failures.size());
        t.put("skipped", skipped);
        t.put("seconds", GpuCheckBench.round(total));
        t.put("failures", failures);
        t.put("skipReasons", skipReasons);
        List<Map<String, Object>> slowest = new ArrayList<>();
        results.stream().sorted((a, b) -> Double.compare(b.seconds(), a.seconds())).limit(5).forEach(r -> {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("name", r.name());
            s.put("seconds", GpuCheckBench.round(r.seconds()));
            slowest.add(s);
        });
        t.put("slowest", slowest);
        return t;
    }

    /** nvidia-smi --query-gpu=name,driver_version,memory.total,... --format=csv lines, or empty where absent. */
    static List<Map<String, Object>> smi(Path file) {
        List<Map<String, Object>> gpus = new ArrayList<>();
        if (file == null || !Files.isRegularFile(file)) return gpus;
        try {
            List<String> lines = Files.readAllLines(file);
            if (lines.isEmpty()) return gpus;
            String[] header = lines.getFirst().split(",\\s*");
            for (String line : lines.subList(1, lines.size())) {
                if (line.isBlank()) continue;
                String[] v = line.split(",\\s*");
                Map<String, Object> g = new LinkedHashMap<>();
                for (int i = 0; i < Math.min(header.length, v.length); i++) g.put(header[i].trim(), v[i].trim());
                gpus.add(g);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return gpus;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> report(Map<String, Object> tests, Map<String, Object> bench, Integer benchRc,
            List<Map<String, Object>> smi, Double elapsed, List<String> notes) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("generated", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        // 124 and 137: timeout(1) stopped the step; what it finished still counts, the run is incomplete.
        boolean noDevice = bench != null && bench.containsKey("unavailable");
        Integer testsRc = tests.get("exitCode") instanceof Integer rc ? rc : null;
        boolean testsFailed = ((Number) tests.getOrDefault("failed", 0)).intValue() > 0
                || (testsRc != null && testsRc != 0 && !stopped(testsRc));
        boolean benchFailed = bench == null || (benchRc != null && benchRc != 0 && !stopped(benchRc))
                || !((List<Object>) bench.getOrDefault("errors", List.of())).isEmpty();
        boolean incomplete = !Boolean.TRUE.equals(tests.get("complete")) || stopped(benchRc)
                || (bench != null && !((List<Object>) bench.getOrDefault("skipped", List.of())).isEmpty());
        String verdict = testsFailed ? "FAIL" : noDevice ? "NO DEVICE" : benchFailed ? "BENCH FAILED"
                : incomplete ? "PASS (incomplete)" : "PASS";
        r.put("verdict", verdict);
        r.put("elapsedSeconds", elapsed);
        r.put("notes", notes);
        r.put("nvidiaSmi", smi);
        r.put("device", bench == null ? null : bench.get("device"));
        if (noDevice) r.put("deviceUnavailable", bench.get("unavailable"));
        r.put("tests", tests);
        Map<String, Object> b = bench == null ? new LinkedHashMap<>() : new LinkedHashMap<>(bench);
        b.remove("device");
        b.put("exitCode", benchRc);
        if (bench == null) b.put("error", "no benchmark results");
        r.put("bench", b);
        return r;
    }

    private static boolean stopped(Integer rc) {
        return rc != null && (rc == 124 || rc == 137);
    }

    // ---- Markdown ----

    @SuppressWarnings("unchecked")
    static String markdown(Map<String, Object> r) {
        StringBuilder md = new StringBuilder();
        md.append("# GPU check: ").append(r.get("verdict")).append("\n\n");
        md.append("Generated ").append(r.get("generated"));
        if (r.get("elapsedSeconds") != null) md.append(", run took ").append(num(r.get("elapsedSeconds"))).append(" s");
        md.append(".\n\n");
        for (String n : (List<String>) r.getOrDefault("notes", List.of())) md.append("- ").append(n).append('\n');

        md.append("\n## Device\n\n");
        Map<String, Object> dev = (Map<String, Object>) r.get("device");
        List<Map<String, Object>> smi = (List<Map<String, Object>>) r.getOrDefault("nvidiaSmi", List.of());
        if (dev == null) md.append("No device: ").append(r.getOrDefault("deviceUnavailable", "unknown")).append("\n");
        else {
            md.append("| | |\n|---|---|\n");
            for (Map.Entry<String, Object> e : dev.entrySet()) {
                if (e.getValue() instanceof Map<?, ?> images) {
                    for (Map.Entry<?, ?> i : images.entrySet()) md.append("| module ").append(i.getKey()).append(" | ")
                            .append(cell(i.getValue())).append(" |\n");
                } else {
                    md.append("| ").append(e.getKey()).append(" | ").append(cell(e.getValue())).append(" |\n");
                }
            }
        }
        for (Map<String, Object> g : smi) md.append("\nnvidia-smi: ").append(g).append('\n');

        Map<String, Object> t = (Map<String, Object>) r.get("tests");
        md.append("\n## Tests (io.paddock.runtime.cuda, without .sim)\n\n");
        if (t.containsKey("error")) md.append("**").append(t.get("error")).append("**\n\n");
        md.append(String.format(Locale.ROOT, "%s passed, %s failed, %s skipped of %s (%s s; exit code %s)%n",
                t.getOrDefault("passed", 0), t.getOrDefault("failed", 0), t.getOrDefault("skipped", 0),
                t.getOrDefault("total", 0), t.getOrDefault("seconds", "?"), t.get("exitCode")));
        List<Map<String, Object>> failures = (List<Map<String, Object>>) t.getOrDefault("failures", List.of());
        if (!failures.isEmpty()) {
            md.append("\nFailures:\n\n");
            for (Map<String, Object> f : failures) {
                md.append("- `").append(f.get("name")).append("`: ").append(truncate(String.valueOf(f.get("message")), 400)).append('\n');
            }
        }
        Map<String, Object> reasons = (Map<String, Object>) t.getOrDefault("skipReasons", Map.of());
        if (!reasons.isEmpty()) {
            md.append("\nSkipped:\n\n");
            for (Map.Entry<String, Object> e : reasons.entrySet()) md.append("- ").append(e.getValue()).append(" × ")
                    .append(truncate(e.getKey(), 300)).append('\n');
        }

        Map<String, Object> b = (Map<String, Object>) r.get("bench");
        md.append("\n## Benchmarks\n\n");
        if (b.containsKey("error")) md.append("**").append(b.get("error")).append("**\n\n");
        if (r.containsKey("deviceUnavailable")) md.append("No device: benchmarks not run.\n");
        Map<String, Object> copy = (Map<String, Object>) b.get("copy");
        if (copy != null) {
            md.append(String.format(Locale.ROOT, "Device-to-device copy of %s: **%s GB/s** best, %s GB/s median"
                            + " (read + write, %s copies).%n", mib(((Number) copy.get("bytes")).longValue()),
                    num(copy.get("gbPerSecondBest")), num(copy.get("gbPerSecondMedian")), copy.get("reps")));
        }
        List<Map<String, Object>> kernels = (List<Map<String, Object>>) b.getOrDefault("kernels", List.of());
        if (!kernels.isEmpty()) {
            Object rotate = ((Map<String, Object>) b.getOrDefault("settings", Map.of())).get("rotateBytes");
            md.append("\n### Kernels\n\nTime per call after a warm-up round, weights rotated over copies spanning ≥ ")
                    .append(rotate instanceof Number n ? mib(n.longValue()) : "?")
                    .append("; a call is one kernel launch (plus a y memset where split-K > 1), the last column adds"
                            + " the act-order gather launch; GB/s of the bytes each call must read; \"issue\" is the host"
                            + " time to launch a call (close to the call time = launch-bound); × copy = GB/s / the best"
                            + " copy GB/s.\n\n");
            md.append("The model columns are docs/gpu-kernels.md's performance model with this device's SM count and"
                    + " measured copy rate: predicted µs, predicted × copy, its binding term, and measured ÷ predicted"
                    + " time (> 1: slower than the model says).\n\n");
            md.append("| kernel | shape (in→out) | batch | format | µs/call | issue µs | GB/s | × copy | µs with act-order gather"
                    + " | model µs | model × copy | bound | measured ÷ model |\n");
            md.append("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
            for (Map<String, Object> k : kernels) {
                md.append("| ").append(k.get("kernel")).append(" | ").append(k.get("shape")).append(" | ").append(k.get("batch"))
                        .append(" | ").append(k.get("format")).append(" | ").append(num(k.get("usPerCall"))).append(" | ")
                        .append(num(k.get("hostUsPerCall"))).append(" | ").append(num(k.get("gbPerSecond"))).append(" | ")
                        .append(num(k.get("fractionOfCopy"))).append(" | ")
                        .append(k.containsKey("usPerCallWithActOrderGather") ? num(k.get("usPerCallWithActOrderGather")) : "")
                        .append(" | ").append(k.containsKey("predictedUs") ? num(k.get("predictedUs")) : "")
                        .append(" | ").append(k.containsKey("predictedFractionOfCopy") ? num(k.get("predictedFractionOfCopy")) : "")
                        .append(" | ").append(k.containsKey("predictedBound") ? k.get("predictedBound") : "")
                        .append(" | ").append(k.get("usPerCall") instanceof Number m && k.get("predictedUs") instanceof Number q
                                && q.doubleValue() > 0 ? num(GpuCheckBench.round(m.doubleValue() / q.doubleValue())) : "")
                        .append(" |\n");
            }
        }
        List<Map<String, Object>> e2e = (List<Map<String, Object>>) b.getOrDefault("endToEnd", List.of());
        if (!e2e.isEmpty()) {
            md.append("\n### End to end (CudaRuntime.forward, logits to the host every step)\n\n");
            md.append("| model | layers | load s | decode tok/s by batch (with CUDA graphs; without in brackets) | prefill |\n|---|---:|---:|---|---|\n");
            for (Map<String, Object> e : e2e) {
                e2eRow(md, String.valueOf(e.get("model")), e);
                if (e.get("baseLayers") instanceof Map<?, ?> base) e2eRow(md, "same, cut", (Map<String, Object>) base);
                if (e.get("estimatedFullDepth") instanceof Map<?, ?> est) {
                    e2eRow(md, "**estimate** (" + ((Map<String, Object>) est).get("method") + ")", (Map<String, Object>) est);
                }
            }
        }
        List<Map<String, Object>> targets = (List<Map<String, Object>>) b.getOrDefault("targets", List.of());
        if (!targets.isEmpty()) {
            md.append("\n### Targets (docs/gpu-kernels.md)\n\n| target | measured | goal | verdict | how |\n|---|---:|---:|---|---|\n");
            for (Map<String, Object> tg : targets) {
                md.append("| ").append(tg.get("target")).append(" | ").append(tg.get("measured") == null ? "—" : num(tg.get("measured")))
                        .append(" | ").append(num(tg.get("goal"))).append(' ').append(tg.get("unit")).append(" | **")
                        .append(tg.get("verdict")).append("** | ").append(truncate(cell(tg.get("how")), 400)).append(" |\n");
            }
        }
        for (String key : List.of("skipped", "errors")) {
            List<String> items = (List<String>) b.getOrDefault(key, List.of());
            if (items.isEmpty()) continue;
            md.append("\n").append(key.equals("skipped") ? "Skipped:" : "**Errors:**").append("\n\n");
            for (String s : items) md.append("- ").append(truncate(s, 400)).append('\n');
        }
        return md.toString();
    }

    @SuppressWarnings("unchecked")
    private static void e2eRow(StringBuilder md, String label, Map<String, Object> e) {
        StringBuilder decode = new StringBuilder();
        for (Map<String, Object> d : (List<Map<String, Object>>) e.getOrDefault("decode", List.of())) {
            if (!decode.isEmpty()) decode.append(", ");
            decode.append(d.get("batch")).append(": ").append(num(d.get("tokensPerSecond")));
            if (d.containsKey("eagerTokensPerSecond")) decode.append(" (no graphs ").append(num(d.get("eagerTokensPerSecond"))).append(')');
        }
        Map<String, Object> p = (Map<String, Object>) e.get("prefill");
        String prefill = p == null ? "" : num(p.get("tokensPerSecond")) + " tok/s (" + p.get("tokens") + " tokens)";
        md.append("| ").append(label).append(" | ").append(e.getOrDefault("layers", "")).append(" | ")
                .append(e.containsKey("loadSeconds") ? num(e.get("loadSeconds")) : "").append(" | ").append(decode)
                .append(" | ").append(prefill).append(" |\n");
    }

    private static String num(Object v) {
        if (v instanceof Double d) {
            if (d.isNaN()) return "n/a";
            return Math.abs(d) >= 100 ? String.format(Locale.ROOT, "%.0f", d)
                    : Math.abs(d) >= 1 ? String.format(Locale.ROOT, "%.2f", d) : String.format(Locale.ROOT, "%.3f", d);
        }
        return v == null ? "" : String.valueOf(v);
    }

    private static String mib(long bytes) {
        return bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
    }

    private static String cell(Object v) {
        return String.valueOf(v).replace("|", "\\|");
    }

    private static String truncate(String s, int n) {
        String one = s.replace('\n', ' ');
        return one.length() <= n ? one : one.substring(0, n) + "…";
    }

    private static double parseOr(String s, double fallback) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static Integer intOrNull(String s) {
        if (s == null || s.isBlank()) return null;
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> readBench(Path file) {
        if (file == null || !Files.isRegularFile(file)) return null;
        try {
            return JsonMapper.builder().build().readValue(file.toFile(), LinkedHashMap.class);
        } catch (RuntimeException e) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("errors", List.of("unreadable benchmark JSON " + file + ": " + e.getMessage()));
            return m;
        }
    }

    /** Writes gpu-report.json and gpu-report.md into {@code out}; returns the report. */
    static Map<String, Object> write(Path out, Map<String, Object> report) {
        try {
            Files.createDirectories(out);
            JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValue(out.resolve("gpu-report.json").toFile(), report);
            Files.writeString(out.resolve("gpu-report.md"), markdown(report));
            return report;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void main(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--note")) notes.add(args[i + 1]);
            else o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Path out = Path.of(o.getOrDefault("out", "."));
        Path testsFile = o.containsKey("tests") ? Path.of(o.get("tests")) : null;
        Path benchFile = o.containsKey("bench") ? Path.of(o.get("bench")) : null;
        Map<String, Object> report = report(tests(testsFile, intOrNull(o.get("tests-rc"))), readBench(benchFile),
                intOrNull(o.get("bench-rc")), smi(o.containsKey("smi") ? Path.of(o.get("smi")) : null),
                o.containsKey("elapsed-s") ? parseOr(o.get("elapsed-s"), Double.NaN) : null, notes);
        write(out, report);
        System.out.println(markdown(report));
        System.out.println("gpu-check: wrote " + out.resolve("gpu-report.json") + " and " + out.resolve("gpu-report.md"));
    }
}
