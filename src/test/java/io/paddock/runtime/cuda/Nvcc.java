package io.paddock.runtime.cuda;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * nvcc for the kernel-source tests (no driver or GPU needed). Every result is cached under {@code target/} by the
 * nvcc version, the arguments and the input text, so a rerun without kernel changes costs nothing: compiling the
 * GPTQ module alone takes about 10 s of front end and 5 s of ptxas per architecture.
 */
final class Nvcc {
    private static final Path CACHE = Path.of("target/cuda-checks");

    /** One nvcc run: its exit status, everything it printed, and the PTX text where PTX was asked for. */
    record Result(int exitCode, String log, String ptx) {}

    private final Path executable;
    private final String version;

    private Nvcc(Path executable, String version) {
        this.executable = executable;
        this.version = version;
    }

    /** nvcc from PATH or /usr/local/cuda*&#47;bin, or empty where none is installed. */
    static Optional<Nvcc> find() {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) if (!dir.isEmpty()) candidates.add(Path.of(dir, "nvcc"));
        }
        try (Stream<Path> s = Files.isDirectory(Path.of("/usr/local")) ? Files.list(Path.of("/usr/local")) : Stream.empty()) {
            s.filter(d -> d.getFileName().toString().startsWith("cuda")).sorted()
                    .forEach(d -> candidates.add(d.resolve("bin/nvcc")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return candidates.stream().filter(Files::isExecutable).findFirst().map(p -> {
            Result r = run(List.of(p.toString(), "--version"));
            if (r.exitCode() != 0) throw new IllegalStateException(p + " --version failed:\n" + r.log());
            return new Nvcc(p, r.log());
        });
    }

    Path executable() {
        return executable;
    }

    /** {@code nvcc --ptx -arch=compute_XX}: the PTX NVRTC would make for a device of that capability. */
    Result ptx(Path cu, String computeArch) {
        try {
            return cached(cu.getFileName().toString(), Files.readString(cu, StandardCharsets.UTF_8), ".cu",
                    List.of("--ptx", "-arch=" + computeArch), ".ptx");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code nvcc -cubin -arch=sm_XX -Xptxas -v} over PTX made for compute_XX: ptxas alone, as the driver JITs
     * that PTX on an sm_XX device, with the resource report in the log. The cubin is byte for byte the one
     * {@code nvcc -cubin -arch=sm_XX} makes from the .cu, without running the front end a second time.
     */
    Result cubin(String name, String ptx, String smArch) {
        return cached(name, ptx, ".ptx", List.of("-cubin", "-arch=" + smArch, "-Xptxas", "-v"), ".cubin");
    }

    private Result cached(String name, String input, String inputSuffix, List<String> args, String outputSuffix) {
        try {
            String key = name + "-" + PtxCompiler.hash(version + "\0" + args + "\0" + input);
            Path log = CACHE.resolve(key + ".log");
            Path ptx = CACHE.resolve(key + ".ptx");
            Path rc = CACHE.resolve(key + ".rc");
            if (Files.isRegularFile(rc)) {
                return new Result(Integer.parseInt(Files.readString(rc).strip()), Files.readString(log),
                        Files.isRegularFile(ptx) ? Files.readString(ptx) : null);
            }
            Files.createDirectories(CACHE);
            Path work = Files.createTempDirectory(CACHE, "run");
            try {
                // the input keeps its file name: nvcc and ptxas messages name it
                Path in = Files.writeString(Files.createDirectory(work.resolve("in")).resolve(stem(name) + inputSuffix),
                        input);
                Path out = work.resolve("out" + outputSuffix);
                List<String> cmd = new ArrayList<>();
                cmd.add(executable.toString());
                cmd.addAll(args);
                cmd.addAll(List.of("-o", out.toString(), in.toString()));
                Result r = run(cmd);
                String text = r.exitCode() == 0 && outputSuffix.equals(".ptx") ? Files.readString(out) : null;
                if (text != null) publish(work, ptx, text);
                publish(work, log, r.log());
                publish(work, rc, Integer.toString(r.exitCode()));   // last: its presence means the entry is whole
                return new Result(r.exitCode(), r.log(), text);
            } finally {
                try (Stream<Path> s = Files.walk(work)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String stem(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    // Atomic, so parallel forks or an interrupted run never leave a half-written cache entry.
    private static void publish(Path work, Path target, String text) throws IOException {
        Path tmp = Files.createTempFile(work, "entry", ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Result run(List<String> cmd) {
        try {
            Path log = Files.createTempFile("nvcc", ".log");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                if (!p.waitFor(5, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    return new Result(-1, String.join(" ", cmd) + ": timed out after 5 minutes", null);
                }
                return new Result(p.exitValue(), Files.readString(log), null);
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
