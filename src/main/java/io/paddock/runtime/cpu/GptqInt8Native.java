package io.paddock.runtime.cpu;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The native int8 GPTQ kernel ({@code src/main/native/gptq_i8.c}), which the Maven build compiles with the
 * machine's gcc into the classes as {@value #RESOURCE}. Loaded once: the resource is copied to a temporary file
 * (deleted at exit) and bound through the FFM linker. Where there is no library (no gcc at build time, another OS
 * or architecture) or the CPU has neither AVX-512 VNNI nor AVX2, {@link #unavailableReason()} says why and
 * {@link GptqInt8} keeps to the Java kernels.
 *
 * <p>The downcall is {@linkplain Linker.Option#critical(boolean) critical with heap access}: the activation,
 * scale and output arrays are passed as heap segments without copies; a call covers one thread's share of the
 * output blocks (milliseconds), during which that thread does not reach a GC safepoint.
 */
final class GptqInt8Native {
    static final String RESOURCE = "/native/linux-x86_64/libpaddock_gptq_i8.so";

    /** 2: AVX-512 VNNI; 1: AVX2 (maddubs); 0: none. */
    static final int LEVEL;
    private static final String REASON;
    private static final MethodHandle KERNEL;

    static {
        int level = 0;
        String reason = null;
        MethodHandle kernel = null;
        try {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            String arch = System.getProperty("os.arch", "");
            if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                reason = "the native int8 kernel is built for Linux x86-64 only (this is " + os + " " + arch + ")";
            } else {
                Path lib = extract();
                if (lib == null) {
                    reason = "no " + RESOURCE + " in the classpath (gcc was not available when paddock was built)";
                } else {
                    Linker linker = Linker.nativeLinker();
                    SymbolLookup lookup = SymbolLookup.libraryLookup(lib, Arena.global());
                    MethodHandle levelFn = linker.downcallHandle(lookup.findOrThrow("paddock_gptq_i8_level"),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT));
                    level = (int) levelFn.invokeExact();
                    ValueLayout a = ValueLayout.ADDRESS, i = ValueLayout.JAVA_INT, l = ValueLayout.JAVA_LONG;
                    kernel = linker.downcallHandle(lookup.findOrThrow("paddock_gptq_i8"),
                            FunctionDescriptor.of(i, i, a, l, i, i, i, i, i, a, i, a, l, a, a, i, i, a, i),
                            Linker.Option.critical(true));
                    if (level == 0) reason = "this CPU has neither AVX-512 VNNI nor AVX2";
                }
            }
        } catch (Throwable t) {
            level = 0;
            kernel = null;
            reason = "loading the native int8 kernel failed: " + t;
        }
        LEVEL = level;
        REASON = reason;
        KERNEL = reason == null ? kernel : null;
    }

    private GptqInt8Native() {}

    /** Null when the kernel is loaded and usable on this CPU, else why not. */
    static String unavailableReason() {
        return REASON;
    }

    static boolean available() {
        return REASON == null;
    }

    /** Whether the kernel runs tiles of {@code lanes} outputs per block at {@code level}. */
    static boolean supports(int level, int lanes) {
        return level == 2 ? lanes == 16 : level == 1 && (lanes == 8 || lanes == 16);
    }

    private static Path extract() throws IOException {
        try (InputStream in = GptqInt8Native.class.getResourceAsStream(RESOURCE)) {
            if (in == null) return null;
            Path f = Files.createTempFile("paddock-gptq-i8-", ".so");
            f.toFile().deleteOnExit();
            Files.copy(in, f, StandardCopyOption.REPLACE_EXISTING);
            return f;
        }
    }

    /** Output blocks [blk0, blk1) of {@code w} for {@code batch} rows of {@code a} into y (batch, out) at yOff. */
    static void run(int level, GptqMatrix w, GptqInt8.Acts a, int blk0, int blk1, float[] y, int yOff) {
        MethodHandle k = KERNEL;
        if (k == null) throw new IllegalStateException(REASON);
        int rc;
        try {
            rc = (int) k.invokeExact(level, w.tiles, w.blockBytes, GptqMatrix.LANES, blk0, blk1, w.bits(), w.groups,
                    MemorySegment.ofArray(w.groupUnits), a.segUnits(), MemorySegment.ofArray(a.xq()), (long) a.stride(),
                    MemorySegment.ofArray(a.xs()), MemorySegment.ofArray(a.xsum()), a.nseg(), a.batch(),
                    MemorySegment.ofArray(y).asSlice(4L * yOff), w.rows());
        } catch (Throwable t) {
            throw new IllegalStateException("native int8 GPTQ kernel failed", t);
        }
        if (rc != 0) throw new IllegalArgumentException("native int8 GPTQ kernel rejected bits " + w.bits() + ", lanes "
                + GptqMatrix.LANES + ", level " + level);
    }
}
