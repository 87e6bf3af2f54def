package io.paddock.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.format.ModelLoadException;
import io.paddock.testing.SharedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationConfigTests {

    @TempDir
    Path tmp;

    @Test
    void loadsTheFixture() {
        GenerationConfig g = GenerationConfig.load(SharedModels.require("stories260K"));
        assertThat(g).isEqualTo(new GenerationConfig(List.of(2), 1, null, null, null, null, 512));
    }

    @Test
    void absentFileMeansNothingSaid() {
        assertThat(GenerationConfig.load(tmp)).isEqualTo(GenerationConfig.empty());
        assertThat(GenerationConfig.empty().eosIds()).isEmpty();
    }

    @Test
    void readsSamplingDefaultsAndEosLists() throws IOException {
        Files.writeString(tmp.resolve("generation_config.json"), """
                {"bos_token_id":1,"eos_token_id":[2,32000],"do_sample":true,"temperature":0.6,"top_p":0.9,
                 "top_k":40,"repetition_penalty":1.1,"max_length":4096,"transformers_version":"4.31.0"}""");
        GenerationConfig g = GenerationConfig.load(tmp);
        assertThat(g.eosIds()).containsExactly(2, 32000);
        assertThat(g.bosId()).isEqualTo(1);
        assertThat(g.temperature()).isEqualTo(0.6f);
        assertThat(g.topP()).isEqualTo(0.9f);
        assertThat(g.topK()).isEqualTo(40);
        assertThat(g.repetitionPenalty()).isEqualTo(1.1f);
        assertThat(g.maxLength()).isEqualTo(4096);
    }

    @Test
    void rejectsBadValuesNamingFileAndField() throws IOException {
        Files.writeString(tmp.resolve("generation_config.json"), "{\"top_p\": 1.5}");
        assertThatThrownBy(() -> GenerationConfig.load(tmp))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("generation_config.json: field 'top_p' must be in (0, 1], got 1.5");
        Files.writeString(tmp.resolve("generation_config.json"), "{\"eos_token_id\": \"2\"}");
        assertThatThrownBy(() -> GenerationConfig.load(tmp))
                .hasMessage("generation_config.json: field 'eos_token_id' must be an integer, got \"2\"");
        Files.writeString(tmp.resolve("generation_config.json"), "{");
        assertThatThrownBy(() -> GenerationConfig.load(tmp))
                .hasMessageStartingWith("generation_config.json: invalid JSON");
    }
}
