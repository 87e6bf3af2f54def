package io.paddock.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.testing.SharedModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Exact parity with the reference SentencePiece (Debian's 0.1.97), through the committed golden file:
 * ids with and without BOS/EOS, decode of those ids, decode of arbitrary id sequences, and the
 * streaming detokenizer on all of them. Tolerance: none, every id and every char must match.
 */
class GoldenParityTests {

    @TestFactory
    Stream<DynamicNode> committedGoldenMatches() {
        Golden golden = Golden.committed();
        return golden.models().entrySet().stream().map(e ->
                DynamicContainer.dynamicContainer(e.getKey(), cases(load(e.getKey(), e.getValue(), null), e.getValue())));
    }

    /** The model a golden entry was made from: a hand-made spec, or a fixture in {@code modelsRoot}. */
    static Tokenizer load(String name, Golden.Model model, Path modelsRoot) {
        if (model.spec() != null) return SentencePieceModelReader.parse(model.spec().toProto());
        Path dir = modelsRoot != null ? modelsRoot.resolve(name) : SharedModels.require(name);
        return Tokenizers.loadSentencePiece(dir.resolve("tokenizer.model"));
    }

    /** Dynamic tests checking {@code t} against one model's oracle answers. */
    static Stream<DynamicNode> cases(Tokenizer t, Golden.Model expected) {
        List<DynamicNode> nodes = new ArrayList<>();
        nodes.add(DynamicTest.dynamicTest("special ids", () -> {
            assertThat(t.vocabSize()).isEqualTo(expected.vocabSize());
            assertThat(new int[] {t.bosId(), t.eosId(), t.unkId()})
                    .containsExactly(expected.bos(), expected.eos(), expected.unk());
        }));
        int i = 0;
        for (Golden.EncodeCase c : expected.encode()) {
            nodes.add(DynamicTest.dynamicTest("encode " + (i++) + " '" + Golden.show(c.text()) + "'", () -> {
                assertThat(t.encode(c.text(), false, false)).as("ids").containsExactly(c.ids());
                assertThat(t.encode(c.text(), true, true)).as("ids with bos/eos").containsExactly(c.idsBosEos());
                assertThat(t.decode(c.ids())).as("decode").isEqualTo(c.decoded());
                assertThat(t.decode(c.idsBosEos())).as("decode with bos/eos").isEqualTo(c.decoded());
                assertThat(streamed(t, c.ids())).as("streamed").isEqualTo(c.decoded());
            }));
        }
        i = 0;
        for (Golden.DecodeCase c : expected.decode()) {
            nodes.add(DynamicTest.dynamicTest("decode " + (i++) + " " + Arrays.toString(c.ids()), () -> {
                assertThat(t.decode(c.ids())).isEqualTo(c.text());
                assertThat(streamed(t, c.ids())).as("streamed").isEqualTo(c.text());
            }));
        }
        return nodes.stream();
    }

    static String streamed(Tokenizer t, int[] ids) {
        var d = new IncrementalDetokenizer(t);
        var sb = new StringBuilder();
        for (int id : ids) sb.append(d.push(id));
        return sb.append(d.flush()).toString();
    }
}
