package io.paddock.model;

import io.paddock.format.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes a Hugging Face model directory: {@code config.json}, {@code generation_config.json}, the GPTQ
 * {@code quantize_config.json} where there is one, the demo model's tokenizer and one {@code model.safetensors}.
 * The one writer behind the embedded {@link DemoModel} and the synthetic benchmark checkpoints.
 */
public final class CheckpointWriter {
    public static final String WEIGHTS = "model.safetensors";

    private CheckpointWriter() {}

    /**
     * @param config           config.json, written pretty-printed in the map's order
     * @param generationConfig generation_config.json, written on one line
     * @param quantizeConfig   quantize_config.json (pretty-printed), or null for a dense checkpoint: a stale one
     *                         would describe other weights, so it is removed
     * @param weights          the tensors, streamed to {@code model.safetensors}
     */
    public static void write(Path dir, Map<String, ?> config, Map<String, ?> generationConfig,
            Map<String, ?> quantizeConfig, SafetensorsWriter weights) throws IOException {
        Files.createDirectories(dir);
        JsonMapper json = JsonMapper.builder().build();
        if (quantizeConfig != null) {
            json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("quantize_config.json").toFile(), quantizeConfig);
        } else {
            Files.deleteIfExists(dir.resolve("quantize_config.json"));
        }
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);
        json.writeValue(dir.resolve("generation_config.json").toFile(), generationConfig);
        DemoModel.writeTokenizer(dir);
        weights.write(dir.resolve(WEIGHTS));
    }
}
