package io.paddock.runtime.cuda;

import static jcuda.nvrtc.JNvrtc.nvrtcCompileProgram;
import static jcuda.nvrtc.JNvrtc.nvrtcCreateProgram;
import static jcuda.nvrtc.JNvrtc.nvrtcDestroyProgram;
import static jcuda.nvrtc.JNvrtc.nvrtcGetPTX;
import static jcuda.nvrtc.JNvrtc.nvrtcGetProgramLog;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;

/**
 * The module image for one kernel source and compute capability, in this order:
 * <ol>
 *   <li>a prebuilt cubin {@code <stem>.sm_XY.cubin} from the prebuilt folder, only where XY is exactly the device's
 *       compute capability (SASS does not run on another major, and a cubin for a lower minor loses that minor's
 *       features) — {@link #cubin};</li>
 *   <li>prebuilt PTX: {@code <stem>.compute_XY.ptx} with the highest XY not above the device's (the driver JITs
 *       PTX for any equal or newer device), else the arch-less {@code <stem>.ptx} as before — {@link #ptx};</li>
 *   <li>the cache, else NVRTC ({@code --gpu-architecture=compute_XY}, no other option), whose result is cached
 *       atomically.</li>
 * </ol>
 * scripts/gpu-check fills the prebuilt folder with nvcc output (cubins for sm_80 and sm_90, PTX for compute_80),
 * so a device machine without libnvrtc.so.12 runs, and an H100/H200 or A100 needs no JIT at all.
 */
final class PtxCompiler {
    private static final Pattern PREBUILT_PTX = Pattern.compile("\\.compute_(\\d+)\\.ptx");

    private final CudaOptions options;
    private final Map<String, String> ptxOrigins = new HashMap<>();

    PtxCompiler(CudaOptions options) {
        this.options = options;
    }

    /** A prebuilt cubin: the file and its bytes. */
    record Cubin(Path file, byte[] image) {}

    /**
     * The prebuilt cubin {@code <stem>.sm_<major><minor>.cubin} for exactly this compute capability, or empty where
     * no prebuilt folder is set or it holds none. Its bytes go to cuModuleLoadData as they are: an ELF image, not
     * NUL-terminated text.
     */
    Optional<Cubin> cubin(String name, int ccMajor, int ccMinor) {
        Path pre = prebuiltCubin(name, ccMajor, ccMinor);
        if (pre == null) return Optional.empty();
        try {
            return Optional.of(new Cubin(pre, Files.readAllBytes(pre)));
        } catch (IOException e) {
            throw new UncheckedIOException("prebuilt cubin " + pre, e);
        }
    }

    /** The prebuilt cubin file {@link #cubin} reads, or null. */
    Path prebuiltCubin(String name, int ccMajor, int ccMinor) {
        if (options.prebuiltPtxDir() == null) return null;
        Path pre = options.prebuiltPtxDir().resolve(stem(name) + ".sm_" + ccMajor + ccMinor + ".cubin");
        return Files.isRegularFile(pre) ? pre : null;
    }

    /**
     * The prebuilt PTX file {@link #ptx} would read for this device: {@code <stem>.compute_XY.ptx} with the highest
     * XY ≤ the device's compute capability, else {@code <stem>.ptx}; null where there is neither.
     */
    Path prebuiltPtx(String name, int ccMajor, int ccMinor) {
        Path dir = options.prebuiltPtxDir();
        if (dir == null || !Files.isDirectory(dir)) return null;
        String stem = stem(name);
        int cc = 10 * ccMajor + ccMinor;
        Path best = null;
        int bestCc = -1;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String file = f.getFileName().toString();
                if (!file.startsWith(stem + ".")) continue;
                Matcher m = PREBUILT_PTX.matcher(file.substring(stem.length()));
                if (!m.matches() || !Files.isRegularFile(f)) continue;
                int fileCc = Integer.parseInt(m.group(1));
                if (fileCc <= cc && fileCc > bestCc) {
                    best = f;
                    bestCc = fileCc;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("prebuilt PTX folder " + dir, e);
        }
        if (best != null) return best;
        Path plain = dir.resolve(stem + ".ptx");
        return Files.isRegularFile(plain) ? plain : null;
    }

    String ptx(String name, String source, int ccMajor, int ccMinor) {
        String arch = "compute_" + ccMajor + ccMinor;
        try {
            Path pre = prebuiltPtx(name, ccMajor, ccMinor);
            if (pre != null) {
                ptxOrigins.put(name, "prebuilt PTX " + pre);
                return Files.readString(pre);
            }
            Path cached = options.ptxCacheDir().resolve(stem(name) + "-" + arch + "-" + hash(source + "\0" + arch) + ".ptx");
            if (Files.isRegularFile(cached)) {
                ptxOrigins.put(name, "cached PTX " + cached);
                return Files.readString(cached);
            }
            String ptx = nvrtc(name, source, arch);
            ptxOrigins.put(name, "NVRTC PTX for " + arch);
            Files.createDirectories(cached.getParent());
            Path tmp = Files.createTempFile(cached.getParent(), stem(name), ".tmp");
            Files.writeString(tmp, ptx);
            Files.move(tmp, cached, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return ptx;
        } catch (IOException e) {
            throw new UncheckedIOException("PTX cache for " + name, e);
        }
    }

    /** Where the last {@link #ptx} of {@code name} came from ("prebuilt PTX f", "cached PTX f", "NVRTC PTX ..."). */
    String ptxOrigin(String name) {
        return ptxOrigins.getOrDefault(name, "PTX");
    }

    private static String nvrtc(String name, String source, String arch) {
        try {
            JNvrtc.setExceptionsEnabled(true);
        } catch (LinkageError e) {
            throw new IllegalStateException("NVRTC is unavailable (libnvrtc.so.12 not found?) and no prebuilt PTX for "
                    + name + " was given (-Dpaddock.cuda.ptx-dir): " + e.getMessage(), e);
        }
        nvrtcProgram prog = new nvrtcProgram();
        nvrtcCreateProgram(prog, source, name, 0, null, null);
        try {
            try {
                nvrtcCompileProgram(prog, 1, new String[] {"--gpu-architecture=" + arch});
            } catch (RuntimeException e) {
                String[] log = new String[1];
                nvrtcGetProgramLog(prog, log);
                throw new IllegalStateException("NVRTC failed to compile " + name + " for " + arch + ":\n" + log[0], e);
            }
            String[] ptx = new String[1];
            nvrtcGetPTX(prog, ptx);
            return ptx[0];
        } finally {
            nvrtcDestroyProgram(prog);
        }
    }

    private static String stem(String name) {
        return name.endsWith(".cu") ? name.substring(0, name.length() - 3) : name;
    }

    static String hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
