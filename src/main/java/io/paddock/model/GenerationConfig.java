package io.paddock.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The model author's generation defaults from {@code generation_config.json}. Every field is optional: null (or
 * an empty {@code eosIds}) means the file does not say, and the caller falls back to its own default.
 */
public record GenerationConfig(
        List<Integer> eosIds,
        Integer bosId,
        Float temperature,
        Float topP,
        Integer topK,
        Float repetitionPenalty,
        Integer maxLength) {

    public static final String FILE_NAME = "generation_config.json";

    public GenerationConfig {
        eosIds = eosIds == null ? List.of() : List.copyOf(eosIds);
    }

    public static GenerationConfig empty() {
        return new GenerationConfig(List.of(), null, null, null, null, null, null);
    }

    /** Reads {@code modelDir/generation_config.json}; {@link #empty()} when the file is absent. */
    public static GenerationConfig load(Path modelDir) {
        ConfigJson.requireDirectory(modelDir);
        Path file = modelDir.resolve(FILE_NAME);
        if (!Files.exists(file)) return empty();
        return parse(ConfigJson.read(file), FILE_NAME);
    }

    public static GenerationConfig parse(String json, String sourceName) {
        ConfigJson c = ConfigJson.parse(json, sourceName);
        Float temperature = c.optFloat("temperature");
        if (temperature != null && !(temperature >= 0)) throw c.error("temperature", "must be >= 0, got " + temperature);
        Float topP = c.optFloat("top_p");
        if (topP != null && !(topP > 0 && topP <= 1)) throw c.error("top_p", "must be in (0, 1], got " + topP);
        Integer topK = c.optInt("top_k");
        if (topK != null && topK < 0) throw c.error("top_k", "must be >= 0, got " + topK);
        Float penalty = c.optFloat("repetition_penalty");
        if (penalty != null && !(penalty > 0)) throw c.error("repetition_penalty", "must be > 0, got " + penalty);
        Integer maxLength = c.optInt("max_length");
        if (maxLength != null && maxLength <= 0) throw c.error("max_length", "must be positive, got " + maxLength);
        Integer bos = c.optInt("bos_token_id");
        List<Integer> eos = c.intOrList("eos_token_id");
        for (int id : eos) if (id < 0) throw c.error("eos_token_id", "must be non-negative, got " + id);
        return new GenerationConfig(eos, bos, temperature, topP, topK, penalty, maxLength);
    }
}
