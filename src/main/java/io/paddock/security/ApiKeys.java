package io.paddock.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.FileSystemResource;

/**
 * The configured keys, from properties (and so from environment variables, e.g. {@code PADDOCK_AUTH_KEYS_0_KEY})
 * and from the keys file. Finding the key a request presents hashes it and compares against every key's hash.
 */
public final class ApiKeys {
    private final List<ApiKey> keys;

    public ApiKeys(List<ApiKey> keys) {
        Set<String> names = new HashSet<>();
        List<byte[]> hashes = new ArrayList<>();
        for (ApiKey k : keys) {
            if (!names.add(k.name())) {
                throw new IllegalArgumentException("API key name '" + k.name() + "' is used twice");
            }
            for (byte[] h : hashes) {
                if (k.matches(h)) throw new IllegalArgumentException("API key '" + k.name() + "' repeats another key");
            }
            hashes.add(k.sha256());
        }
        this.keys = List.copyOf(keys);
    }

    /** The keys of {@code paddock.auth.keys} followed by those of {@code paddock.auth.keys-file}. */
    public static ApiKeys from(AuthProperties props) {
        List<AuthProperties.Key> all = new ArrayList<>(props.keys());
        if (props.keysFile() != null && !props.keysFile().isBlank()) all.addAll(readFile(Path.of(props.keysFile())));
        return new ApiKeys(all.stream().map(ApiKey::of).toList());
    }

    /**
     * A YAML or JSON file (JSON is YAML) holding {@code keys:} with the same fields as the properties, in kebab or
     * camel case: bound by Spring's own binder, so both spellings mean the same as in application.yaml.
     */
    static List<AuthProperties.Key> readFile(Path file) {
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("paddock.auth.keys-file " + file + " cannot be read");
        }
        try {
            List<PropertySource<?>> docs = new YamlPropertySourceLoader().load("paddock.auth.keys-file",
                    new FileSystemResource(file));
            List<AuthProperties.Key> out = new ArrayList<>();
            for (PropertySource<?> doc : docs) {
                new Binder(ConfigurationPropertySources.from(doc))
                        .bind("keys", Bindable.listOf(AuthProperties.Key.class)).ifBound(out::addAll);
            }
            return out;
        } catch (IOException | RuntimeException e) {
            // The message names the file only: a parser's message may quote the line, and the line may hold a key.
            throw new IllegalArgumentException("paddock.auth.keys-file " + file + " is not a valid YAML or JSON keys"
                    + " file (expected keys: [{name, key or key-sha256, limits}])");
        }
    }

    public boolean isEmpty() { return keys.isEmpty(); }

    public List<ApiKey> all() { return keys; }

    /** The key whose hash equals the presented key's hash: every key is compared, in constant time each. */
    public Optional<ApiKey> find(byte[] presentedSha256) {
        ApiKey found = null;
        for (ApiKey k : keys) {
            if (k.matches(presentedSha256) && found == null) found = k;
        }
        return Optional.ofNullable(found);
    }
}
