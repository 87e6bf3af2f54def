package io.paddock.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.testing.SharedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdapterConfigTests {
    @TempDir
    Path tmp;

    private static AdapterConfig parse(String fields) {
        return AdapterConfig.parse("{\"peft_type\": \"LORA\", \"r\": 8, \"lora_alpha\": 16" + fields + "}", "adapter_config.json");
    }

    private static void refused(String fields, String... parts) {
        assertThatThrownBy(() -> parse(fields)).isInstanceOf(AdapterLoadException.class)
                .hasMessageStartingWith("adapter_config.json: field '").hasMessageContainingAll(parts);
    }

    @Test
    void readsTheFixture() {
        AdapterConfig c = AdapterConfig.read(SharedModels.require("stories260K-lora-all").resolve("adapter_config.json"));
        assertThat(c.r()).isEqualTo(8);
        assertThat(c.loraAlpha()).isEqualTo(16.0);
        assertThat(c.targetModules()).isEqualTo(EnumSet.allOf(LoraModule.class));
        assertThat(c.useRslora()).isFalse();
        assertThat(c.baseModelNameOrPath()).isEqualTo("stories260K-padded");
        assertThat(c.scale(8, 16)).isEqualTo(2f);
        assertThat(c.targets(4, LoraModule.DOWN)).isTrue();

        AdapterConfig qv = AdapterConfig.read(SharedModels.require("stories260K-lora-qv").resolve("adapter_config.json"));
        assertThat(qv.targetModules()).containsExactlyInAnyOrder(LoraModule.Q, LoraModule.V);
        assertThat(qv.targets(0, LoraModule.K)).isFalse();
    }

    @Test
    void theFiveArgumentConstructorKeepsDefaults() {
        AdapterConfig c = new AdapterConfig(4, 8, Set.of(LoraModule.Q), true, null);
        assertThat(c.scale(4, 8)).isEqualTo(4f); // rsLoRA: 8 / √4
        assertThat(c.rank(3, LoraModule.Q)).isEqualTo(4);
        assertThat(c.targets(3, LoraModule.Q)).isTrue();
        assertThat(c.targets(3, LoraModule.K)).isFalse();
    }

    @Test
    void targetModulesAsARegexIsFullMatchedAgainstModuleKeys() {
        AdapterConfig c = parse(", \"target_modules\": \"model\\\\.layers\\\\.[01]\\\\.self_attn\\\\.(q|v)_proj\"");
        assertThat(c.targetModules()).containsExactlyInAnyOrder(LoraModule.Q, LoraModule.V);
        assertThat(c.targets(1, LoraModule.V)).isTrue();
        assertThat(c.targets(2, LoraModule.V)).isFalse();
        assertThat(c.targets(0, LoraModule.K)).isFalse();
        // full match: a bare name as a string matches no key
        refused(", \"target_modules\": \"q_proj\"", "'target_modules'", "matches none");
        assertThat(parse(", \"target_modules\": \"all-linear\"").targetModules()).hasSize(7);
        assertThat(parse("").targetModules()).containsExactlyInAnyOrder(LoraModule.Q, LoraModule.V);
        assertThat(parse(", \"target_modules\": [\"self_attn.o_proj\", \"down_proj\"]").targetModules())
                .containsExactlyInAnyOrder(LoraModule.O, LoraModule.DOWN);
    }

    @Test
    void patternsAndLayersAreHonoured() {
        AdapterConfig c = parse(", \"target_modules\": [\"q_proj\", \"v_proj\"], \"layers_to_transform\": [1, 3],"
                + " \"rank_pattern\": {\"layers.3.self_attn.q_proj\": 2, \"v_proj\": 4}, \"alpha_pattern\": {\"q_proj\": 4},"
                + " \"use_rslora\": true, \"fan_in_fan_out\": false, \"some_future_field\": {\"x\": 1}");
        assertThat(c.targets(0, LoraModule.Q)).isFalse();
        assertThat(c.targets(1, LoraModule.Q)).isTrue();
        assertThat(c.rank(3, LoraModule.Q)).isEqualTo(2);
        assertThat(c.rank(1, LoraModule.Q)).isEqualTo(8);
        assertThat(c.rank(1, LoraModule.V)).isEqualTo(4);
        assertThat(c.alpha(1, LoraModule.Q)).isEqualTo(4.0);
        assertThat(c.alpha(1, LoraModule.V)).isEqualTo(16.0);
        assertThat(c.exactScale(1, LoraModule.V)).isEqualTo(8.0); // 16 / √4
        // suffix match needs a dot boundary: "proj" alone names no module key's end after a dot
        assertThat(parse(", \"rank_pattern\": {\"proj\": 2}").rank(0, LoraModule.Q)).isEqualTo(8);
    }

    @Test
    void unsupportedSettingsAreRefusedByName() {
        refused(", \"bias\": \"all\"", "'bias'", "\"all\"");
        refused(", \"bias\": \"lora_only\"", "'bias'");
        refused(", \"modules_to_save\": [\"lm_head\"]", "'modules_to_save'");
        refused(", \"use_dora\": true", "'use_dora'", "DoRA");
        refused(", \"target_modules\": [\"lm_head\"]", "'target_modules'", "lm_head");
        refused(", \"target_modules\": \"(\"", "'target_modules'", "regular expression");
        refused(", \"r\": 0", "'r'");
        refused(", \"r\": \"8\"", "'r'");
        refused(", \"layers_to_transform\": \"all\"", "'layers_to_transform'");
        refused(", \"rank_pattern\": {\"q_proj\": 0}", "'rank_pattern'", "q_proj");
        assertThatThrownBy(() -> AdapterConfig.parse("{\"peft_type\": \"PREFIX_TUNING\"}", "x/adapter_config.json"))
                .isInstanceOf(AdapterLoadException.class).hasMessage("x/adapter_config.json: field 'peft_type' is "
                        + "\"PREFIX_TUNING\"; only LORA adapters are supported");
        assertThatThrownBy(() -> AdapterConfig.parse("{\"r\": 8}", "a.json")).hasMessageContaining("'peft_type' is missing");
        assertThatThrownBy(() -> AdapterConfig.parse("{", "a.json")).hasMessageStartingWith("a.json: not valid JSON");
        // modules_to_save null or empty is the default
        assertThat(parse(", \"modules_to_save\": null, \"bias\": \"none\", \"use_dora\": false").r()).isEqualTo(8);
        assertThat(parse(", \"modules_to_save\": []").r()).isEqualTo(8);
    }

    @Test
    void aMissingFileIsNamed() throws Exception {
        Path f = tmp.resolve("adapter_config.json");
        assertThatThrownBy(() -> AdapterConfig.read(f)).isInstanceOf(AdapterLoadException.class)
                .hasMessageStartingWith(f + ": file not found");
        Files.writeString(f, "[]");
        assertThatThrownBy(() -> AdapterConfig.read(f)).hasMessage(f + ": not a JSON object");
    }
}
