package io.paddock.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the real model fixtures in {@code ../shared/models}. Tests that need them call
 * {@link #require(String)}, which skips the test with a clear reason where the fixtures are absent.
 */
public final class SharedModels {
    private SharedModels() {}

    public static Path root() {
        String prop = System.getProperty("paddock.shared.models");
        if (prop == null || prop.isBlank()) prop = System.getenv("PADDOCK_SHARED_MODELS");
        if (prop == null || prop.isBlank()) prop = "../shared/models";
        return Path.of(prop).toAbsolutePath().normalize();
    }

    public static boolean available(String name) {
        return Files.isDirectory(root().resolve(name));
    }

    /** For {@code @EnabledIf}: whether the stories260K fixtures are present. */
    public static boolean stories260KAvailable() {
        return available("stories260K");
    }

    /** The fixture directory or file {@code name}; skips the calling test where it is missing. */
    public static Path require(String name) {
        Path p = root().resolve(name);
        assumeTrue(Files.exists(p), () -> "skipped: model fixture " + p + " not found (../shared/models is absent)");
        return p;
    }
}
