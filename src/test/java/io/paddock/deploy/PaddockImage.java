package io.paddock.deploy;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;

/**
 * The image built from the top-level Dockerfile, once per test JVM under the tag {@link #TAG}; Docker's layer
 * cache makes a rebuild with unchanged sources take seconds. Where no image registry is reachable the base images
 * are the local stand-ins from {@code scripts/docker-local-bases}; where neither those nor the public bases are
 * present, or no Docker engine answers, the calling test is skipped with the reason.
 */
final class PaddockImage {
    static final String TAG = "paddock:it";
    static final String LOCAL_BUILD_BASE = "local/temurin:25-jdk";
    static final String LOCAL_RUNTIME_BASE = "local/debian:bookworm-minbase";
    static final String PUBLIC_BUILD_BASE = "eclipse-temurin:25-jdk";
    static final String PUBLIC_RUNTIME_BASE = "debian:bookworm-slim";

    private static String skipReason;
    private static boolean built;
    static long buildMillis = -1;

    private PaddockImage() {}

    /** The image tag, built if needed; skips the caller where Docker or the base images are missing. */
    static synchronized String require() {
        if (!built && skipReason == null) skipReason = build();
        assumeTrue(skipReason == null, () -> report("skipped: " + skipReason));
        return TAG;
    }

    private static String report(String s) {
        System.out.println("ContainerIT " + s);
        return s;
    }

    /** Null when the image is built; otherwise why the tests cannot run here. A broken Dockerfile throws. */
    private static String build() {
        // Testcontainers reads these from the environment only: Ryuk and the start-up checks pull images.
        if (!"true".equalsIgnoreCase(System.getenv("TESTCONTAINERS_RYUK_DISABLED"))) {
            return "TESTCONTAINERS_RYUK_DISABLED=true is not set (Ryuk's image would be pulled; the failsafe configuration in pom.xml sets it)";
        }
        if (!"true".equalsIgnoreCase(System.getenv("TESTCONTAINERS_CHECKS_DISABLE"))) {
            return "TESTCONTAINERS_CHECKS_DISABLE=true is not set (the start-up checks pull an image; the failsafe configuration in pom.xml sets it)";
        }
        try {
            if (!DockerClientFactory.instance().isDockerAvailable()) return "no Docker engine answers";
        } catch (RuntimeException e) {
            return "no Docker engine answers: " + e.getMessage();
        }
        String buildBase;
        String runtimeBase;
        if (imagePresent(LOCAL_BUILD_BASE) && imagePresent(LOCAL_RUNTIME_BASE)) {
            buildBase = LOCAL_BUILD_BASE;
            runtimeBase = LOCAL_RUNTIME_BASE;
        } else if (imagePresent(PUBLIC_BUILD_BASE) && imagePresent(PUBLIC_RUNTIME_BASE)) {
            buildBase = PUBLIC_BUILD_BASE;
            runtimeBase = PUBLIC_RUNTIME_BASE;
        } else {
            return "neither the local base images (scripts/docker-local-bases) nor " + PUBLIC_BUILD_BASE + " and "
                    + PUBLIC_RUNTIME_BASE + " are present";
        }
        Path log = Path.of("target", "container-it-docker-build.log");
        List<String> cmd = new ArrayList<>(List.of("docker", "build", "--network", "host",
                "--build-arg", "BUILD_IMAGE=" + buildBase, "--build-arg", "RUNTIME_IMAGE=" + runtimeBase,
                "-t", TAG, "."));
        long t0 = System.nanoTime();
        int rc;
        try {
            Files.createDirectories(log.getParent());
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("DOCKER_BUILDKIT", "0"); // no buildx here; the Dockerfile needs nothing newer
            Process p = pb.start();
            if (!p.waitFor(15, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("docker build took over 15 minutes; see " + log.toAbsolutePath());
            }
            rc = p.exitValue();
        } catch (IOException e) {
            return "the docker CLI cannot be run: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        buildMillis = (System.nanoTime() - t0) / 1_000_000;
        if (rc != 0) {
            String tail = tail(log, 40);
            // Present bases and a failing build: the Dockerfile (or the sources) are broken, which must fail the test.
            throw new AssertionError("docker build failed (exit " + rc + "), see " + log.toAbsolutePath() + ":\n" + tail);
        }
        report("built " + TAG + " from " + buildBase + " + " + runtimeBase + " in " + buildMillis + " ms");
        built = true;
        return null;
    }

    static boolean imagePresent(String name) {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(name).exec();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
