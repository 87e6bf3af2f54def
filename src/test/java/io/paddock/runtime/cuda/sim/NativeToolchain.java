package io.paddock.runtime.cuda.sim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Builds the CUDA host emulation (src/test/native/cudasim) and code compiled against it with g++, caching every
 * object file, library and program by content hash under {@code target/cudasim/}.
 *
 * <p>Each source compiles to its own object (sources of one program in parallel). An object's hash covers the
 * compiler version, the flags (include-path flags aside), the source and every header it includes as {@code g++
 * -MM} lists them, so editing a kernel rebuilds exactly the objects that include it, and a program built against a
 * mutated copy of one .cu file reuses all other objects. A cheaper first-level key (flags, the source, and every
 * file in the emulator's directory and in each {@code -I} directory) remembers that hash, so an unchanged build
 * costs no compiler run at all. Links are keyed by their objects and flags. Every output is built in a private
 * temporary directory and renamed into place atomically: concurrent builds of the same inputs (several JVMs,
 * parallel tests) are safe, one rename wins and the others use its result.
 *
 * <p>Locations: sources from {@code src/test/native/cudasim} relative to the working directory (surefire runs in
 * the project root) or {@code -Dpaddock.cudasim.src}; outputs under {@code target/cudasim} or
 * {@code -Dpaddock.cudasim.out}; the compiler is {@code g++} on the PATH or {@code -Dpaddock.cudasim.cxx}.
 * Include directories must be given as {@code -I<dir>} (one argument).
 */
public final class NativeToolchain {
    /** File name of the emulator's runtime library, also its SONAME. */
    public static final String CORE_LIBRARY = "libpaddock_cudasim.so";

    private static final List<String> COMMON =
            List.of("-std=c++20", "-pthread", "-Wall", "-Wno-unknown-pragmas", "-Wno-sign-compare");
    private static final long COMPILE_TIMEOUT_MINUTES = 10;
    private static final Map<String, Object> LOCKS = new ConcurrentHashMap<>();   // one build per output per JVM
    private static volatile Optional<String> probe;
    private static volatile String version;

    private NativeToolchain() {}

    /** A failed compilation or link: the message holds the command and the compiler's whole output. */
    public static final class BuildException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BuildException(String message) {
            super(message);
        }
    }

    /** Why no usable g++ (or no emulator source) exists here; empty when builds can run. */
    public static Optional<String> unavailableReason() {
        Optional<String> p = probe;
        if (p == null) {
            p = computeUnavailableReason();
            probe = p;
        }
        return p;
    }

    /** The emulator's source directory (cuda_sim.h, sim_core.cpp, the kernel test harness), absolute. */
    public static Path sourceDir() {
        return Path.of(System.getProperty("paddock.cudasim.src", "src/test/native/cudasim")).toAbsolutePath()
                .normalize();
    }

    /** The project's CUDA sources, src/main/resources/cuda in the same tree as {@link #sourceDir()}. */
    public static Path kernelDir() {
        return sourceDir().resolve("../../../main/resources/cuda").normalize();
    }

    /** {@value #CORE_LIBRARY} from sim_core.cpp (-O2 -fPIC -shared -pthread); the path of the built library. */
    public static Path coreLibrary() {
        Path object = object(sourceDir().resolve("sim_core.cpp"), List.of("-O2", "-fPIC"));
        return link(CORE_LIBRARY, List.of(object), List.of("-shared", "-Wl,-soname," + CORE_LIBRARY));
    }

    /**
     * A shared library {@code lib<name>.so} compiled from {@code cppText} (typically {@code #include "cuda_sim.h"},
     * a {@code #line} directive, a .cu source and its PADDOCK_SIM_EXPORT lines; the emulator's directory is on the
     * include path) and linked against {@link #coreLibrary()} with an rpath to its directory, so loading the module
     * after the core binds both to the same core.
     *
     * @param extraFlags more g++ flags for compiling and linking (e.g. -O1, -g, -DNAME), before the defaults' -I
     */
    public static Path sharedLibrary(String name, String cppText, List<String> extraFlags) {
        requireSimpleName(name);
        Path coreDir = coreLibrary().getParent();
        Path source = generatedSource(name + ".cpp", cppText);
        Path object = object(source, concat(List.of("-O2", "-fPIC"), extraFlags));
        List<String> linkFlags = concat(concat(List.of("-shared"), extraFlags),
                List.of("-L" + coreDir, "-lpaddock_cudasim", "-Wl,-rpath," + coreDir));
        return link("lib" + name + ".so", List.of(object), linkFlags);
    }

    /**
     * A program compiled from {@code sources} together with sim_core.cpp, each to its own object in parallel, all
     * with {@code flags} (which are also passed to the link, so sanitizer flags instrument the emulator too). The
     * emulator's directory is on the include path after {@code flags}.
     */
    public static Path executable(String name, List<Path> sources, List<String> flags) {
        requireSimpleName(name);
        List<Path> all = new ArrayList<>();
        for (Path s : sources) all.add(s.toAbsolutePath().normalize());
        all.add(sourceDir().resolve("sim_core.cpp"));
        return link(name, objects(all, flags), flags);
    }

    // ---- compiling ----------------------------------------------------------------------------------------------

    private static List<Path> objects(List<Path> sources, List<String> flags) {
        int threads = Math.max(1, Math.min(sources.size(), Runtime.getRuntime().availableProcessors()));
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<Path>> jobs = new ArrayList<>();
            for (Path s : sources) jobs.add(pool.submit(() -> object(s, flags)));
            List<Path> out = new ArrayList<>();
            for (Future<Path> j : jobs) out.add(j.get());
            return out;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BuildException("interrupted while compiling");
        }
    }

    private static Path object(Path source, List<String> flags) {
        List<String> args = new ArrayList<>(COMMON);
        args.addAll(flags);
        args.add("-I" + sourceDir());
        String stem = source.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        String output = stem + ".o";
        Path keys = outputRoot().resolve("keys");
        String quick = digest(d -> {
            d.text("object-quick " + compilerVersion() + " " + source);
            for (String a : args) d.text(a);
            d.directory(source.getParent());   // quoted includes look next to the source first
            for (Path dir : includeDirs(args)) d.directory(dir);
        });
        Path known = keys.resolve(quick);
        try {
            if (Files.isRegularFile(known)) {
                Path cached = outputRoot().resolve(Files.readString(known).strip()).resolve(output);
                if (Files.isRegularFile(cached)) return cached;
            }
            List<Path> deps = dependencies(source, args);
            String hash = "o-" + digest(d -> {
                d.text("object " + compilerVersion() + " " + source);
                for (String a : args) if (!a.startsWith("-I")) d.text(a);   // -I only chooses files: deps cover it
                d.file(source);
                for (Path dep : deps) d.file(dep);
            });
            List<String> cmd = new ArrayList<>(List.of(compiler()));
            cmd.addAll(args);
            cmd.add("-c");
            cmd.add(source.toString());
            Path result = materialize(hash, output, tmp -> {
                List<String> full = new ArrayList<>(cmd);
                full.addAll(List.of("-o", tmp.resolve(output).toString()));
                run(full, tmp, "compiling " + source.getFileName());
            });
            Files.createDirectories(keys);
            Path tmpKey = keys.resolve(".tmp-" + UUID.randomUUID());
            Files.writeString(tmpKey, hash);
            Files.move(tmpKey, known, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path link(String output, List<Path> objects, List<String> flags) {
        List<String> args = new ArrayList<>(COMMON);
        args.addAll(flags);
        String hash = "l-" + digest(d -> {
            d.text("link " + compilerVersion() + " " + output);
            for (Path o : objects) d.text(o.toString());   // objects live in content-hashed directories
            for (String a : args) d.text(a);
        });
        return materialize(hash, output, tmp -> {
            List<String> cmd = new ArrayList<>(List.of(compiler()));
            for (Path o : objects) cmd.add(o.toString());
            cmd.addAll(List.of("-o", tmp.resolve(output).toString()));
            cmd.addAll(args);   // libraries after the objects that need them
            run(cmd, tmp, "linking " + output);
        });
    }

    /** The project headers {@code source} includes, as {@code g++ -MM} resolves them with {@code args}. */
    private static List<Path> dependencies(Path source, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(compiler()));
        cmd.addAll(args);
        cmd.addAll(List.of("-MM", source.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(COMPILE_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new BuildException("g++ -MM timed out on " + source);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BuildException("interrupted while scanning " + source);
        }
        if (p.exitValue() != 0) throw new BuildException("g++ -MM failed on " + source + "\n$ " + String.join(" ", cmd) + "\n" + out);
        List<Path> deps = new ArrayList<>();
        String rule = out.substring(out.indexOf(':') + 1).replace("\\\n", " ");
        for (String t : rule.trim().split("\\s+")) if (!t.isEmpty()) deps.add(Path.of(t).toAbsolutePath().normalize());
        return deps;
    }

    private static Path generatedSource(String file, String text) {
        String hash = "s-" + digest(d -> d.text(file + "\n" + text));
        return materialize(hash, file, tmp -> Files.writeString(tmp.resolve(file), text, StandardCharsets.UTF_8));
    }

    private static void run(List<String> cmd, Path dir, String what) throws IOException {
        Path log = dir.resolve("build.log");
        Files.writeString(dir.resolve("command.txt"), String.join(" ", cmd) + "\n", StandardCharsets.UTF_8);
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            boolean done = p.waitFor(COMPILE_TIMEOUT_MINUTES, TimeUnit.MINUTES);
            if (!done) p.destroyForcibly().waitFor();
            if (!done || p.exitValue() != 0) {
                throw new BuildException((done ? "g++ failed (exit " + p.exitValue() + ")" : "g++ timed out") + " "
                        + what + "\n$ " + String.join(" ", cmd) + "\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BuildException("interrupted while " + what);
        }
    }

    // ---- the cache ------------------------------------------------------------------------------------------------

    private interface Build {
        void into(Path tmp) throws IOException;
    }

    /** {@code <root>/<hash>/<file>}, built by {@code build} into a fresh directory that is then renamed into place. */
    private static Path materialize(String hash, String file, Build build) {
        unavailableReason().ifPresent(why -> {
            throw new BuildException("cannot build " + file + ": " + why);
        });
        Path root = outputRoot();
        Path dir = root.resolve(hash);
        Path result = dir.resolve(file);
        if (Files.isRegularFile(result)) return result;
        synchronized (LOCKS.computeIfAbsent(hash, h -> new Object())) {
            if (Files.isRegularFile(result)) return result;
            try {
                Files.createDirectories(root);
                Path tmp = Files.createDirectory(root.resolve(".tmp-" + UUID.randomUUID()));
                try {
                    build.into(tmp);
                    try {
                        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                    } catch (IOException e) {
                        // Another process finished the same build first (rename(2) fails with ENOTEMPTY, which
                        // Java reports as a plain FileSystemException): its output is the same, use it.
                        if (!Files.isRegularFile(result)) throw e;
                    }
                } finally {
                    deleteTree(tmp);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (!Files.isRegularFile(result)) throw new BuildException("build of " + result + " left no output");
        return result;
    }

    private static final class Digest {
        private final MessageDigest md;

        Digest() throws NoSuchAlgorithmException {
            md = MessageDigest.getInstance("SHA-256");
        }

        void text(String s) {
            md.update(s.getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
        }

        void file(Path f) throws IOException {
            text("file " + f);
            md.update(Files.readAllBytes(f));
        }

        void directory(Path dir) throws IOException {
            if (!Files.isDirectory(dir)) return;
            try (Stream<Path> s = Files.list(dir)) {
                for (Path f : s.filter(Files::isRegularFile).sorted(Comparator.comparing(Path::toString)).toList()) {
                    file(f);
                }
            }
        }
    }

    private interface DigestBody {
        void feed(Digest d) throws IOException;
    }

    private static String digest(DigestBody body) {
        try {
            Digest d = new Digest();
            body.feed(d);
            return HexFormat.of().formatHex(d.md.digest()).substring(0, 24);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Path> includeDirs(List<String> args) {
        List<Path> dirs = new ArrayList<>();
        for (String a : args) if (a.startsWith("-I") && a.length() > 2) dirs.add(Path.of(a.substring(2)));
        return dirs;
    }

    // ---- environment --------------------------------------------------------------------------------------------

    private static Optional<String> computeUnavailableReason() {
        Path src = sourceDir();
        if (!Files.isRegularFile(src.resolve("sim_core.cpp"))) {
            return Optional.of("no emulator sources at " + src + " (set -Dpaddock.cudasim.src)");
        }
        try {
            Process p = new ProcessBuilder(compiler(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(1, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return Optional.of(compiler() + " --version did not finish");
            }
            if (p.exitValue() != 0) return Optional.of(compiler() + " --version failed: " + out.strip());
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("no usable C++ compiler '" + compiler() + "': " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while probing " + compiler());
        }
    }

    private static String compilerVersion() {
        String v = version;
        if (v != null) return v;
        try {
            Process p = new ProcessBuilder(compiler(), "-dumpfullversion", "-dumpversion").redirectErrorStream(true)
                    .start();
            v = compiler() + " " + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor(1, TimeUnit.MINUTES);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BuildException("interrupted while asking " + compiler() + " for its version");
        }
        version = v;
        return v;
    }

    private static String compiler() {
        return System.getProperty("paddock.cudasim.cxx", "g++");
    }

    private static Path outputRoot() {
        return Path.of(System.getProperty("paddock.cudasim.out", "target/cudasim")).toAbsolutePath().normalize();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> r = new ArrayList<>(a);
        r.addAll(b);
        return r;
    }

    private static void requireSimpleName(String name) {
        if (!name.matches("[A-Za-z0-9_.-]+")) throw new IllegalArgumentException("not a plain file name: " + name);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
