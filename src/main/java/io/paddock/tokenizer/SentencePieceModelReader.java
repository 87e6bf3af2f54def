package io.paddock.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a SentencePiece {@code tokenizer.model} ({@code ModelProto}). Field numbers follow
 * {@code sentencepiece_model.proto}: ModelProto pieces 1, trainer_spec 2, normalizer_spec 3;
 * SentencePiece piece 1, score 2, type 3; TrainerSpec model_type 3, treat_whitespace_as_suffix 24,
 * byte_fallback 35, unk_surface 44, bos_piece 46, eos_piece 47; NormalizerSpec name 1,
 * precompiled_charsmap 2, add_dummy_prefix 3, remove_extra_whitespaces 4, escape_whitespaces 5.
 * Absent fields take the proto2 defaults declared there.
 */
final class SentencePieceModelReader {
    private static final int MODEL_TYPE_BPE = 2;

    private SentencePieceModelReader() {}

    static SentencePieceTokenizer read(Path file) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerLoadException("cannot read SentencePiece model " + file + ": " + e.getMessage(), e);
        }
        try {
            return parse(data);
        } catch (IllegalArgumentException e) {
            throw new TokenizerLoadException("corrupt or unsupported SentencePiece model " + file + ": " + e.getMessage(), e);
        }
    }

    static SentencePieceTokenizer parse(byte[] data) {
        List<Vocabulary.Entry> entries = new ArrayList<>();
        Trainer trainer = new Trainer();
        Normalizer norm = new Normalizer();
        var r = new ProtoReader(data);
        while (r.next()) {
            switch (r.field()) {
                case 1 -> entries.add(readPiece(r.message()));
                case 2 -> trainer.read(r.message());
                case 3 -> norm.read(r.message());
                default -> r.skip();
            }
        }
        if (entries.isEmpty()) throw new IllegalArgumentException("no pieces");
        if (trainer.modelType != MODEL_TYPE_BPE) {
            throw new IllegalArgumentException("model_type " + trainer.modelType + " is not BPE (2); only BPE is implemented");
        }
        if (trainer.whitespaceAsSuffix) throw new IllegalArgumentException("treat_whitespace_as_suffix is not supported");
        if (norm.charsmapLength > 0) {
            throw new IllegalArgumentException("normalizer '" + norm.name + "' has a precompiled character map;"
                    + " only the identity normalization is implemented");
        }
        var vocab = new Vocabulary(entries, trainer.unkSurface, trainer.bosPiece, trainer.eosPiece);
        var spec = new NormalizerSpec(norm.addDummyPrefix, norm.removeExtraWhitespaces, norm.escapeWhitespaces);
        // Without byte fallback SentencePiece emits one <unk> for a run of unknown characters (fuse).
        return new SentencePieceTokenizer(vocab, spec, new MergeTable.ByScore(vocab), trainer.byteFallback, true);
    }

    private static Vocabulary.Entry readPiece(ProtoReader r) {
        String piece = null;
        float score = 0f;
        PieceType type = PieceType.NORMAL;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> piece = r.string();
                case 2 -> score = r.float32();
                case 3 -> type = PieceType.fromProto(r.varint());
                default -> r.skip();
            }
        }
        return new Vocabulary.Entry(piece, score, type);
    }

    /** The TrainerSpec fields encoding depends on, with their proto2 defaults. */
    private static final class Trainer {
        int modelType = 1;
        boolean byteFallback;
        boolean whitespaceAsSuffix;
        String unkSurface = Vocabulary.DEFAULT_UNK_SURFACE;
        String bosPiece = "<s>";
        String eosPiece = "</s>";

        void read(ProtoReader r) {
            while (r.next()) {
                switch (r.field()) {
                    case 3 -> modelType = r.int32();
                    case 24 -> whitespaceAsSuffix = r.bool();
                    case 35 -> byteFallback = r.bool();
                    case 44 -> unkSurface = r.string();
                    case 46 -> bosPiece = r.string();
                    case 47 -> eosPiece = r.string();
                    default -> r.skip();
                }
            }
        }
    }

    /** The NormalizerSpec fields, with their proto2 defaults. */
    private static final class Normalizer {
        String name = "";
        int charsmapLength;
        boolean addDummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;

        void read(ProtoReader r) {
            while (r.next()) {
                switch (r.field()) {
                    case 1 -> name = r.string();
                    case 2 -> charsmapLength = r.bytes().length;
                    case 3 -> addDummyPrefix = r.bool();
                    case 4 -> removeExtraWhitespaces = r.bool();
                    case 5 -> escapeWhitespaces = r.bool();
                    default -> r.skip();
                }
            }
        }
    }
}
