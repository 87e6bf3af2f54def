package io.paddock.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.testing.SharedModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading: which file wins, and errors that name the file. */
class TokenizerLoadingTests {

    @Test
    void prefersTokenizerModelAndFallsBackToTokenizerJson(@TempDir Path tmp) throws Exception {
        Path dir = SharedModels.require("stories260K");
        Tokenizer t = Tokenizers.load(dir);
        assertThat(t.vocabSize()).isEqualTo(512);
        assertThat(((SentencePieceTokenizer) t).merges()).isInstanceOf(MergeTable.ByScore.class);

        Files.copy(dir.resolve("tokenizer.json"), tmp.resolve("tokenizer.json"));
        Tokenizer json = Tokenizers.load(tmp);
        assertThat(((SentencePieceTokenizer) json).merges()).isInstanceOf(MergeTable.ByRank.class);
        assertThat(json.encode("Once upon a time", true, false)).containsExactly(t.encode("Once upon a time", true, false));
        assertThat(json.bosId()).isEqualTo(1);
        assertThat(json.eosId()).isEqualTo(2);
    }

    @Test
    void missingFilesAreNamed(@TempDir Path tmp) {
        assertThatThrownBy(() -> Tokenizers.load(tmp))
                .isInstanceOf(TokenizerLoadException.class)
                .hasMessageContaining("tokenizer.model").hasMessageContaining("tokenizer.json").hasMessageContaining(tmp.toString());
    }

    @Test
    void corruptModelFileIsNamed(@TempDir Path tmp) throws Exception {
        byte[] model = Files.readAllBytes(SharedModels.require("stories260K").resolve("tokenizer.model"));
        Path file = tmp.resolve("tokenizer.model");
        Files.write(file, Arrays.copyOf(model, model.length / 2));
        assertThatThrownBy(() -> Tokenizers.load(tmp))
                .isInstanceOf(TokenizerLoadException.class).hasMessageContaining(file.toString()).hasMessageContaining("truncated");
        Files.write(file, "not a protobuf at all, just text".getBytes());
        assertThatThrownBy(() -> Tokenizers.load(tmp)).isInstanceOf(TokenizerLoadException.class).hasMessageContaining(file.toString());
    }

    @Test
    void corruptTokenizerJsonIsNamed(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("tokenizer.json");
        Files.writeString(file, "{\"model\": {\"type\": \"BPE\", \"vocab\": ");
        assertThatThrownBy(() -> Tokenizers.load(tmp)).isInstanceOf(TokenizerLoadException.class).hasMessageContaining(file.toString());
        Files.writeString(file, "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        assertThatThrownBy(() -> Tokenizers.load(tmp))
                .isInstanceOf(TokenizerLoadException.class).hasMessageContaining(file.toString()).hasMessageContaining("BPE");
    }

    @Test
    void readsPiecesTypesAndSurfaces() {
        Tokenizer t = Tokenizers.loadSentencePiece(SharedModels.require("llama-tokenizer").resolve("tokenizer.model"));
        assertThat(t.vocabSize()).isEqualTo(32000);
        assertThat(t.piece(13)).isEqualTo("<0x0A>");
        assertThat(t.pieceBytes(13)).containsExactly(0x0A);
        assertThat(t.isByte(13)).isTrue();
        int once = t.encode("Once", false, false)[0];
        assertThat(t.piece(once)).isEqualTo("\u2581Once");
        assertThat(new String(t.pieceBytes(once), StandardCharsets.UTF_8)).isEqualTo(" Once");
        assertThat(t.isControl(1)).isTrue();
        assertThat(t.isControl(2)).isTrue();
        assertThat(t.isControl(0)).as("<unk>").isTrue();
        assertThat(t.isControl(once)).isFalse();
        assertThat(t.pieceBytes(1)).isEmpty();
        assertThat(t.decode(new int[] {0})).isEqualTo(" \u2047 ");
        assertThatThrownBy(() -> t.decode(new int[] {32000})).isInstanceOf(IllegalArgumentException.class);
    }
}
