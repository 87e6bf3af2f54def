package io.paddock.runtime.cuda;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether the installed driver can JIT a PTX module for this device, decided before {@code cuModuleLoadData} so
 * the user reads which driver to install instead of {@code CUDA_ERROR_UNSUPPORTED_PTX_VERSION}. The driver's JIT
 * compiles only the PTX ISA versions its own CUDA release knows (minor-version compatibility covers cubins, not
 * PTX), and NVRTC writes its toolkit's newest ISA version: PTX from a CUDA 13.0 NVRTC or nvcc ({@code .version
 * 9.0}) loads only on an R580+ driver, whatever the target.
 */
public final class PtxCompatibility {

    /**
     * A PTX ISA version and the first CUDA release whose driver JITs it.
     *
     * @param minDriver as {@code cuDriverGetVersion} reports that release: 1000·major + 10·minor
     * @param branch the Linux driver branch of that release, for the message
     */
    record IsaRelease(int major, int minor, int minDriver, String branch) {}

    /**
     * PTX ISA version → first CUDA release, from the "PTX ISA release history" table of NVIDIA's PTX ISA
     * documentation (docs.nvidia.com/cuda/parallel-thread-execution, Release Notes); driver branches from the
     * "CUDA Toolkit and Corresponding Driver Versions" table of the CUDA Toolkit release notes. PTX ISA 8.6 is
     * listed under CUDA 12.7, which shipped no driver: the first driver that takes it is 12.8's. Older ISA
     * versions than 7.0 are left out: CUDA 11.0 (PTX 7.0) is the first release that runs sm_80, our oldest target,
     * so any driver that can run the device at all JITs them. Oldest first.
     */
    static final List<IsaRelease> TABLE = List.of(
            new IsaRelease(7, 0, 11000, "R450"),
            new IsaRelease(7, 1, 11010, "R455"),
            new IsaRelease(7, 2, 11020, "R460"),
            new IsaRelease(7, 3, 11030, "R465"),
            new IsaRelease(7, 4, 11040, "R470"),
            new IsaRelease(7, 5, 11050, "R495"),
            new IsaRelease(7, 6, 11060, "R510"),
            new IsaRelease(7, 7, 11070, "R515"),
            new IsaRelease(7, 8, 11080, "R520"),
            new IsaRelease(8, 0, 12000, "R525"),
            new IsaRelease(8, 1, 12010, "R530"),
            new IsaRelease(8, 2, 12020, "R535"),
            new IsaRelease(8, 3, 12030, "R545"),
            new IsaRelease(8, 4, 12040, "R550"),
            new IsaRelease(8, 5, 12050, "R555"),
            new IsaRelease(8, 6, 12080, "R570"),
            new IsaRelease(8, 7, 12080, "R570"),
            new IsaRelease(8, 8, 12090, "R575"),
            new IsaRelease(9, 0, 13000, "R580"),
            new IsaRelease(9, 1, 13010, "R590"));

    private static final Pattern VERSION = Pattern.compile("(?m)^\\s*\\.version\\s+(\\d+)\\.(\\d+)");
    // sm_90a ("arch-specific") runs only on 9.0; sm_100f ("family") on the same major with a minor at least its own.
    private static final Pattern TARGET = Pattern.compile("(?m)^\\s*\\.target\\s+sm_(\\d+)([af]?)\\b");

    private PtxCompatibility() {}

    /** The {@code .version} and {@code .target} directives of a PTX module; cc is major·10 + minor. */
    record Header(int major, int minor, int targetCc, String targetSuffix) {
        String version() {
            return major + "." + minor;
        }

        String target() {
            return "sm_" + targetCc + targetSuffix;
        }
    }

    /** The module's header; a PTX text without {@code .version} or {@code .target} is not a module we made. */
    static Header header(String ptx) {
        Matcher v = VERSION.matcher(ptx);
        Matcher t = TARGET.matcher(ptx);
        if (!v.find()) throw new IllegalArgumentException("PTX has no .version directive");
        if (!t.find()) throw new IllegalArgumentException("PTX has no .target sm_NN directive");
        return new Header(Integer.parseInt(v.group(1)), Integer.parseInt(v.group(2)), Integer.parseInt(t.group(1)),
                t.group(2));
    }

    /**
     * Empty where a driver of {@code driverVersion} (as {@code cuDriverGetVersion}, e.g. 12040) can JIT {@code ptx}
     * for a device of compute capability {@code computeCapability} (major·10 + minor, e.g. 80); otherwise one line
     * that says why and what to change. A PTX version newer than this table is refused only where the driver is
     * no newer than the table's newest release, which cannot know it either; past that the driver decides.
     */
    public static Optional<String> check(String ptx, int driverVersion, int computeCapability) {
        Header h = header(ptx);
        Optional<String> target = targetProblem(h, computeCapability);
        if (target.isPresent()) return target;
        IsaRelease newest = TABLE.getLast();
        if (h.major() < TABLE.getFirst().major()) return Optional.empty();
        Optional<IsaRelease> known = TABLE.stream()
                .filter(r -> r.major() == h.major() && r.minor() == h.minor()).findFirst();
        if (known.isEmpty()) {
            boolean newer = h.major() > newest.major() || (h.major() == newest.major() && h.minor() > newest.minor());
            if (newer && driverVersion <= newest.minDriver()) {
                return Optional.of("PTX .version " + h.version() + " is newer than PTX " + newest.major() + "."
                        + newest.minor() + " (CUDA " + cuda(newest.minDriver()) + "), so it needs a driver newer than "
                        + cuda(newest.minDriver()) + "; this driver is " + cuda(driverVersion) + " (" + driverVersion
                        + "): install a newer driver or generate the PTX with an older toolkit");
            }
            return Optional.empty();
        }
        IsaRelease r = known.get();
        if (driverVersion >= r.minDriver()) return Optional.empty();
        return Optional.of("PTX .version " + h.version() + " needs a CUDA " + cuda(r.minDriver()) + " driver ("
                + r.branch() + "+); this driver is " + cuda(driverVersion) + " (" + driverVersion + "): install an "
                + r.branch() + " or newer driver, or generate the PTX with a CUDA " + cuda(driverVersion)
                + " or older NVRTC");
    }

    private static Optional<String> targetProblem(Header h, int cc) {
        boolean runs = switch (h.targetSuffix()) {
            case "a" -> cc == h.targetCc();
            case "f" -> cc / 10 == h.targetCc() / 10 && cc >= h.targetCc();
            default -> cc >= h.targetCc();
        };
        if (runs) return Optional.empty();
        return Optional.of("PTX targets " + h.target() + " but the device is sm_" + cc
                + ": generate the PTX for compute_" + cc);
    }

    /** 12040 → "12.4", as NVIDIA writes CUDA versions. */
    static String cuda(int driverVersion) {
        return driverVersion / 1000 + "." + driverVersion % 1000 / 10;
    }
}
