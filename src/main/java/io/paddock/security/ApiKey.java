package io.paddock.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A configured key: its name, the SHA-256 of the key (the key itself is not kept), its limits (0: none) and whether
 * it is an admin key (may load and unload LoRA adapters).
 */
public record ApiKey(String name, byte[] sha256, int requestsPerMinute, int tokensPerMinute,
        int maxConcurrentRequests, boolean admin) {

    public ApiKey {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("an API key needs a name");
        if (sha256.length != 32) throw new IllegalArgumentException("API key '" + name + "': a SHA-256 is 32 bytes");
        if (requestsPerMinute < 0 || tokensPerMinute < 0 || maxConcurrentRequests < 0) {
            throw new IllegalArgumentException("API key '" + name + "': limits must be >= 0 (0: no limit)");
        }
        sha256 = sha256.clone();
    }

    /** A key that is not an admin key. */
    public ApiKey(String name, byte[] sha256, int requestsPerMinute, int tokensPerMinute, int maxConcurrentRequests) {
        this(name, sha256, requestsPerMinute, tokensPerMinute, maxConcurrentRequests, false);
    }

    /** From configuration: the plain key is hashed here and dropped. */
    static ApiKey of(AuthProperties.Key k) {
        String name = k.name() == null ? "" : k.name().trim();
        if (name.isEmpty()) throw new IllegalArgumentException("every API key needs a name");
        boolean plain = k.key() != null && !k.key().isEmpty();
        boolean hashed = k.keySha256() != null && !k.keySha256().isEmpty();
        if (plain == hashed) {
            throw new IllegalArgumentException("API key '" + name + "': give exactly one of key and key-sha256");
        }
        byte[] hash;
        if (plain) {
            hash = sha256(k.key());
        } else {
            String hex = k.keySha256().trim();
            if (hex.startsWith("sha256:")) hex = hex.substring("sha256:".length());
            if (!hex.matches("[0-9a-fA-F]{64}")) {
                throw new IllegalArgumentException("API key '" + name + "': key-sha256 must be 64 hex digits");
            }
            hash = HexFormat.of().parseHex(hex);
        }
        return new ApiKey(name, hash, k.requestsPerMinute(), k.tokensPerMinute(), k.maxConcurrentRequests(),
                k.admin());
    }

    static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    @Override
    public byte[] sha256() {
        return sha256.clone();
    }

    /** Compared in constant time: the time taken says nothing about how much of the hash matched. */
    boolean matches(byte[] presentedSha256) {
        return MessageDigest.isEqual(sha256, presentedSha256);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ApiKey k && k.name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return "ApiKey[name=" + name + ", requestsPerMinute=" + requestsPerMinute + ", tokensPerMinute="
                + tokensPerMinute + ", maxConcurrentRequests=" + maxConcurrentRequests + ", admin=" + admin + "]";
    }
}
