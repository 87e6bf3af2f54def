package io.paddock.structured;

import io.paddock.testing.SharedModels;
import io.paddock.tokenizer.IncrementalDetokenizer;
import io.paddock.tokenizer.Tokenizer;
import io.paddock.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The real vocabularies of ../shared/models, loaded once; tests that need them are skipped where absent. */
final class TestTokenizers {
    private static final Map<Path, Tokenizer> LOADED = new ConcurrentHashMap<>();

    private TestTokenizers() {}

    /** The 32000-token LLaMA vocabulary. */
    static Tokenizer llama() {
        return load("llama-tokenizer");
    }

    /** The 512-token stories260K vocabulary. */
    static Tokenizer stories() {
        return load("stories260K");
    }

    static Tokenizer load(String model) {
        Path file = SharedModels.require(model).resolve("tokenizer.model");
        return LOADED.computeIfAbsent(file, Tokenizers::loadSentencePiece);
    }

    /** {@code t} with another leading-space rule; its decode follows that rule. */
    static Tokenizer withLeadingSpace(Tokenizer t, Tokenizer.LeadingSpace rule) {
        return new Tokenizer() {
            public int vocabSize() { return t.vocabSize(); }
            public int bosId() { return t.bosId(); }
            public int eosId() { return t.eosId(); }
            public int unkId() { return t.unkId(); }
            public int[] encode(String text, boolean addBos, boolean addEos) { return t.encode(text, addBos, addEos); }
            public String piece(int id) { return t.piece(id); }
            public boolean isControl(int id) { return t.isControl(id); }
            public byte[] pieceBytes(int id) { return t.pieceBytes(id); }
            public LeadingSpace leadingSpace() { return rule; }

            public String decode(int[] ids) {
                IncrementalDetokenizer d = new IncrementalDetokenizer(this);
                StringBuilder sb = new StringBuilder();
                for (int id : ids) sb.append(d.push(id));
                return sb.append(d.flush()).toString();
            }
        };
    }
}
