package io.paddock.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The oracle's answers written by {@code gen_golden.py}: per model, encode cases and decode cases. */
record Golden(String version, Map<String, Model> models) {
    static final String RESOURCE = "/tokenizer/golden.json";

    /** @param spec the hand-made model's definition, null for a model read from ../shared/models */
    record Model(int vocabSize, int bos, int eos, int unk, Spec spec, List<EncodeCase> encode, List<DecodeCase> decode) {}

    /** A synthetic SentencePiece model as gen_golden.py defines it; {@link #toProto} builds the same bytes. */
    record Spec(boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean byteFallback, List<Piece> pieces) {
        byte[] toProto() {
            var model = new ProtoWriter();
            for (Piece p : pieces) model.message(1, new ProtoWriter().string(1, p.piece()).float32(2, p.score()).varint(3, p.type()));
            model.message(2, new ProtoWriter().varint(3, 2).varint(35, byteFallback ? 1 : 0));
            model.message(3, new ProtoWriter().string(1, "identity").varint(3, addDummyPrefix ? 1 : 0)
                    .varint(4, removeExtraWhitespaces ? 1 : 0).varint(5, 1));
            return model.toByteArray();
        }
    }

    record Piece(String piece, float score, int type) {}

    record EncodeCase(String text, int[] ids, String decoded, int[] idsBosEos) {}

    record DecodeCase(int[] ids, String text) {}

    static Golden committed() {
        try (InputStream in = Golden.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " is missing from the test classpath");
            return parse(JsonMapper.builder().build().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Golden read(Path file) {
        try {
            return parse(JsonMapper.builder().build().readTree(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Golden parse(JsonNode root) {
        Map<String, Model> models = new LinkedHashMap<>();
        for (var m : root.path("models").properties()) {
            JsonNode v = m.getValue();
            JsonNode meta = v.path("meta");
            List<EncodeCase> enc = new ArrayList<>();
            for (JsonNode c : v.path("encode")) {
                enc.add(new EncodeCase(c.path("text").asString(), ints(c.path("ids")), c.path("decoded").asString(), ints(c.path("ids_bos_eos"))));
            }
            List<DecodeCase> dec = new ArrayList<>();
            for (JsonNode c : v.path("decode")) dec.add(new DecodeCase(ints(c.path("ids")), c.path("text").asString()));
            Spec spec = null;
            if (v.has("spec")) {
                JsonNode s = v.path("spec");
                List<Piece> pieces = new ArrayList<>();
                for (JsonNode p : s.path("pieces")) pieces.add(new Piece(p.get(0).asString(), p.get(1).floatValue(), p.get(2).asInt()));
                spec = new Spec(s.path("add_dummy_prefix").asBoolean(), s.path("remove_extra_whitespaces").asBoolean(),
                        s.path("byte_fallback").asBoolean(), pieces);
            }
            models.put(m.getKey(), new Model(meta.path("vocab_size").asInt(), meta.path("bos").asInt(),
                    meta.path("eos").asInt(), meta.path("unk").asInt(), spec, enc, dec));
        }
        return new Golden(root.path("sentencepiece").asString(), models);
    }

    private static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }

    /** Printable form of a test text for failure messages and test names. */
    static String show(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().limit(60).forEach(cp -> {
            if (cp < 0x20 || cp == 0x7F) sb.append(String.format("\\x%02x", cp));
            else sb.appendCodePoint(cp);
        });
        if (s.codePointCount(0, s.length()) > 60) sb.append("…(").append(s.length()).append(" chars)");
        return sb.toString();
    }
}
