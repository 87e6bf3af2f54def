package io.paddock.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/** Loads the tokenizer of a model directory. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * The tokenizer of {@code modelDir}: from {@code tokenizer.model} where present, else from
     * {@code tokenizer.json}.
     *
     * @throws TokenizerLoadException naming the file when both are missing, or the file is unreadable,
     *     corrupt or uses an unsupported feature
     */
    public static Tokenizer load(Path modelDir) {
        Path model = modelDir.resolve("tokenizer.model");
        if (Files.isRegularFile(model)) return loadSentencePiece(model);
        Path json = modelDir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) return loadTokenizerJson(json);
        throw new TokenizerLoadException("no tokenizer in " + modelDir + ": neither " + model.getFileName()
                + " nor " + json.getFileName() + " exists");
    }

    /** A SentencePiece {@code tokenizer.model} file. */
    public static Tokenizer loadSentencePiece(Path file) {
        return SentencePieceModelReader.read(file);
    }

    /** A Hugging Face {@code tokenizer.json} file; bos/eos names come from its sibling config files. */
    public static Tokenizer loadTokenizerJson(Path file) {
        return TokenizerJsonReader.read(file);
    }
}
