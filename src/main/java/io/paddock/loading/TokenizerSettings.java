package io.paddock.loading;

import io.paddock.format.ModelLoadException;
import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Reads the few {@code tokenizer_config.json} settings generation depends on. */
final class TokenizerSettings {
    private TokenizerSettings() {}

    /** {@code add_bos_token}, true (LLaMA's default) where the file or the key is absent. */
    static boolean addBos(Path dir) {
        Path file = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(file)) return true;
        try {
            JsonNode node = JsonMapper.builder().build().readTree(file.toFile());
            JsonNode v = node.get("add_bos_token");
            return v == null || v.isNull() || v.asBoolean(true);
        } catch (RuntimeException e) {
            throw new ModelLoadException(file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }
}
