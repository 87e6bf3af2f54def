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
import java.util.HexFormat;
import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;

/**
 * PTX for one kernel source and compute capability: a prebuilt file if the options name one, else the cache,
 * else NVRTC ({@code --gpu-architecture=compute_XY}, no other option), whose result is cached atomically.
 */
final class PtxCompiler {
    private final CudaOptions options;

    PtxCompiler(CudaOptions options) {
        this.options = options;
    }

    String ptx(String name, String source, int ccMajor, int ccMinor) {
        String arch = "compute_" + ccMajor + ccMinor;
        try {
            if (options.prebuiltPtxDir() != null) {
                Path pre = options.prebuiltPtxDir().resolve(stem(name) + ".ptx");
                if (Files.isRegularFile(pre)) return Files.readString(pre);
            }
            Path cached = options.ptxCacheDir().resolve(stem(name) + "-" + arch + "-" + hash(source + "\0" + arch) + ".ptx");
            if (Files.isRegularFile(cached)) return Files.readString(cached);
            String ptx = nvrtc(name, source, arch);
            Files.createDirectories(cached.getParent());
            Path tmp = Files.createTempFile(cached.getParent(), stem(name), ".tmp");
            Files.writeString(tmp, ptx);
            Files.move(tmp, cached, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return ptx;
        } catch (IOException e) {
            throw new UncheckedIOException("PTX cache for " + name, e);
        }
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
