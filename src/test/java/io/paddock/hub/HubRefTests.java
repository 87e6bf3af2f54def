package io.paddock.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubRefTests {

    @Test
    void parsesRepoAndRevision() {
        assertThat(HubRef.parse("TheBloke/guanaco-7B-GPTQ")).isEqualTo(new HubRef("TheBloke/guanaco-7B-GPTQ", "main"));
        assertThat(HubRef.parse("TheBloke/guanaco-7B-GPTQ:gptq-4bit-32g-actorder_True").revision())
                .isEqualTo("gptq-4bit-32g-actorder_True");
        assertThat(HubRef.parse("o/n:refs/pr/1").revision()).isEqualTo("refs/pr/1");
        assertThat(HubRef.parse("o/n:refs/pr/1")).hasToString("o/n:refs/pr/1");
        assertThat(HubRef.parse("o/n")).hasToString("o/n");
        assertThatThrownBy(() -> HubRef.parse("guanaco")).hasMessageContaining("expected ORG/NAME");
        assertThatThrownBy(() -> HubRef.parse("a/b/c")).hasMessageContaining("expected ORG/NAME");
        assertThatThrownBy(() -> HubRef.parse("o/n:")).hasMessageContaining("revision after ':' is empty");
    }

    @Test
    void anExistingDirectoryIsNeverAHubModel(@TempDir Path tmp) throws Exception {
        assertThat(HubRef.isHubModel("TheBloke/guanaco-7B-GPTQ")).isTrue();
        assertThat(HubRef.isHubModel("TheBloke/guanaco-7B-GPTQ:main")).isTrue();
        assertThat(HubRef.isHubModel("/models/guanaco")).isFalse();
        assertThat(HubRef.isHubModel("models/a/b")).isFalse();
        assertThat(HubRef.isHubModel("guanaco")).isFalse();
        assertThat(HubRef.isHubModel(null)).isFalse();
        Path local = Files.createDirectories(tmp.resolve("org/name"));
        String relative = Path.of("").toAbsolutePath().relativize(local).toString();
        assertThat(HubRef.isHubModel(relative)).isFalse();
        assertThat(new HubRef("o/n", "0123456789abcdef0123456789abcdef01234567").revisionIsCommit()).isTrue();
    }

    @Test
    void escapesRevisionsAsOneUrlSegment() {
        assertThat(HubClient.encode("refs/pr/1")).isEqualTo("refs%2Fpr%2F1");
        assertThat(HubClient.encode("gptq-4bit-32g-actorder_True")).isEqualTo("gptq-4bit-32g-actorder_True");
        assertThat(HubClient.encode("v1 +ü")).isEqualTo("v1%20%2B%C3%BC");
        assertThat(HubClient.unquote("W/\"abc\"")).isEqualTo("abc");
    }

    @Test
    void globsMatchAsFnmatch() {
        assertThat(IncludeGlobs.DEFAULT.matches("config.json")).isTrue();
        assertThat(IncludeGlobs.DEFAULT.matches("model-00001-of-00002.safetensors")).isTrue();
        assertThat(IncludeGlobs.DEFAULT.matches("tokenizer.model")).isTrue();
        assertThat(IncludeGlobs.DEFAULT.matches("pytorch_model.bin")).isFalse();
        assertThat(IncludeGlobs.DEFAULT.matches("README.md")).isFalse();
        assertThat(IncludeGlobs.of(List.of("sub/*.json")).matches("sub/a/b.json")).isTrue();
        assertThat(IncludeGlobs.of(List.of("model-0000[12]-*")).matches("model-00002-of-00002.safetensors")).isTrue();
        assertThat(IncludeGlobs.of(List.of("a.b")).matches("aXb")).isFalse();
    }

    @Test
    void settingsFollowTheHuggingfaceHubVariables(@TempDir Path home) throws Exception {
        var s = HubSettings.fromEnvironment(Map.of("HF_HOME", home.toString()));
        assertThat(s.endpoint()).hasToString("https://huggingface.co");
        assertThat(s.cache()).isEqualTo(home.resolve("hub"));
        assertThat(s.token()).isNull();
        assertThat(s.offline()).isFalse();
        Files.writeString(home.resolve("token"), "hf_from_login\n");
        assertThat(HubSettings.fromEnvironment(Map.of("HF_HOME", home.toString())).token()).isEqualTo("hf_from_login");
        var t = HubSettings.fromEnvironment(Map.of("HF_HOME", home.toString(), "HF_HUB_CACHE", "/c",
                "HF_ENDPOINT", "https://mirror.example/", "HUGGING_FACE_HUB_TOKEN", "hf_old", "HF_HUB_OFFLINE", "1"));
        assertThat(t.endpoint()).hasToString("https://mirror.example");
        assertThat(t.cache()).isEqualTo(Path.of("/c"));
        assertThat(t.token()).isEqualTo("hf_old");
        assertThat(t.offline()).isTrue();
        assertThat(HubSettings.fromEnvironment(Map.of("HF_HOME", home.toString(), "HF_TOKEN", "hf_new",
                "HUGGING_FACE_HUB_TOKEN", "hf_old")).token()).isEqualTo("hf_new");
    }
}
