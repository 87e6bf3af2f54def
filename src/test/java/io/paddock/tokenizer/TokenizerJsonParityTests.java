package io.paddock.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.testing.SharedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every stories260K* fixture directory has both a {@code tokenizer.model} (score-ranked merges) and a
 * {@code tokenizer.json} (rank-ordered merges): both must give the same vocabulary and the same ids.
 */
class TokenizerJsonParityTests {

    @TestFactory
    Stream<DynamicTest> bothSourcesAgreeInEveryFixtureDirectory() throws IOException {
        Path root = SharedModels.require("stories260K").getParent();
        List<Path> dirs;
        try (Stream<Path> s = Files.list(root)) {
            dirs = s.filter(d -> d.getFileName().toString().startsWith("stories260K"))
                    .filter(d -> Files.isRegularFile(d.resolve("tokenizer.json")) && Files.isRegularFile(d.resolve("tokenizer.model")))
                    .sorted().toList();
        }
        assertThat(dirs).hasSizeGreaterThanOrEqualTo(9);
        List<String> texts = texts();
        return dirs.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
            Tokenizer spm = Tokenizers.loadSentencePiece(dir.resolve("tokenizer.model"));
            Tokenizer hf = Tokenizers.loadTokenizerJson(dir.resolve("tokenizer.json"));
            assertThat(hf.vocabSize()).isEqualTo(spm.vocabSize());
            assertThat(new int[] {hf.bosId(), hf.eosId(), hf.unkId()}).containsExactly(spm.bosId(), spm.eosId(), spm.unkId());
            assertThat(hf.leadingSpace()).isEqualTo(spm.leadingSpace());
            for (int id = 0; id < spm.vocabSize(); id++) {
                assertThat(hf.piece(id)).isEqualTo(spm.piece(id));
                assertThat(hf.isControl(id)).as("isControl %d", id).isEqualTo(spm.isControl(id));
                assertThat(hf.isByte(id)).as("isByte %d", id).isEqualTo(spm.isByte(id));
                assertThat(hf.pieceBytes(id)).as("pieceBytes %d", id).isEqualTo(spm.pieceBytes(id));
            }
            for (String text : texts) {
                int[] ids = spm.encode(text, true, false);
                assertThat(hf.encode(text, true, false)).as("'%s'", Golden.show(text)).containsExactly(ids);
                assertThat(hf.decode(ids)).isEqualTo(spm.decode(ids));
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> tokenizerJsonMatchesTheOracle() {
        // The golden answers hold for the tokenizer.json form too (the model-file form is checked in GoldenParityTests).
        Golden.Model expected = Golden.committed().models().get("stories260K");
        Tokenizer hf = Tokenizers.loadTokenizerJson(SharedModels.require("stories260K").resolve("tokenizer.json"));
        return GoldenParityTests.cases(hf, expected).map(n -> (DynamicTest) n);
    }

    private static List<String> texts() {
        var out = new ArrayList<String>();
        Golden.committed().models().get("stories260K").encode().forEach(c -> out.add(c.text()));
        // Random strings over letters and the vocabulary's frequent pieces stress merge order.
        String[] parts = {"a", "e", "t", "h", "the", " ", "  ", "Lily", " saw", "ing", "ed", "\n", "é", "中", "🙂", "x", "q", "er", "st"};
        Random rnd = new Random(7);
        for (int i = 0; i < 500; i++) {
            var sb = new StringBuilder();
            for (int n = rnd.nextInt(40); n > 0; n--) sb.append(parts[rnd.nextInt(parts.length)]);
            out.add(sb.toString());
        }
        return out;
    }
}
