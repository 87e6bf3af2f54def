package io.paddock.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Where the hub is and how to talk to it, read from the same environment variables as {@code huggingface_hub}, so a
 * machine set up for the Python tools works unchanged.
 *
 * @param endpoint the hub or a mirror ({@code HF_ENDPOINT}), no trailing slash
 * @param token    bearer token for gated and private repositories ({@code HF_TOKEN}), or null
 * @param cache    the hub cache root ({@code HF_HUB_CACHE}, else {@code $HF_HOME/hub})
 * @param offline  {@code HF_HUB_OFFLINE=1}: resolve from the cache only, never open a connection
 */
public record HubSettings(URI endpoint, String token, Path cache, boolean offline) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    public HubSettings {
        String e = endpoint.toString();
        if (e.endsWith("/")) endpoint = URI.create(e.substring(0, e.length() - 1));
        if (token != null && token.isBlank()) token = null;
    }

    /** The settings of this process's environment. */
    public static HubSettings fromEnvironment() { return fromEnvironment(System.getenv()); }

    public static HubSettings fromEnvironment(Map<String, String> env) {
        String endpoint = nonBlank(env.get("HF_ENDPOINT"), DEFAULT_ENDPOINT);
        Path home = Path.of(nonBlank(env.get("HF_HOME"), Path.of(nonBlank(env.get("XDG_CACHE_HOME"),
                Path.of(System.getProperty("user.home"), ".cache").toString()), "huggingface").toString()));
        Path cache = Path.of(nonBlank(env.get("HF_HUB_CACHE"), home.resolve("hub").toString()));
        String token = nonBlank(env.get("HF_TOKEN"), env.get("HUGGING_FACE_HUB_TOKEN"));
        if (token == null || token.isBlank()) token = storedToken(Path.of(nonBlank(env.get("HF_TOKEN_PATH"),
                home.resolve("token").toString())));
        String offline = env.getOrDefault("HF_HUB_OFFLINE", "").trim().toUpperCase(Locale.ROOT);
        boolean isOffline = offline.equals("1") || offline.equals("ON") || offline.equals("YES") || offline.equals("TRUE");
        URI uri;
        try {
            uri = URI.create(endpoint);
        } catch (IllegalArgumentException ex) {
            throw new HubException("HF_ENDPOINT '" + endpoint + "' is not a URL");
        }
        return new HubSettings(uri, token, cache, isOffline);
    }

    public HubSettings withCache(Path cacheRoot) { return new HubSettings(endpoint, token, cacheRoot, offline); }

    /** The token {@code huggingface-cli login} stored, if any. */
    private static String storedToken(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8).trim() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static String nonBlank(String v, String fallback) { return v == null || v.isBlank() ? fallback : v; }
}
