package io.paddock.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a Hugging Face {@code tokenizer.json} holding a LLaMA-style BPE model: vocab, ranked merges,
 * byte fallback, added special tokens and the normalizer {@code Prepend("▁")} + {@code Replace(" "→"▁")}
 * (or the equivalent {@code Metaspace} pre-tokenizer without splitting).
 *
 * <p>Text is not split on added tokens: a literal {@code <s>} in text is encoded as characters, as
 * SentencePiece does, so the two sources give the same ids (Hugging Face's library differs here).
 */
final class TokenizerJsonReader {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private TokenizerJsonReader() {}

    static SentencePieceTokenizer read(Path file) {
        JsonNode root = readJson(file);
        String[] special = specialPieces(file.getParent());
        try {
            return parse(root, special[0], special[1]);
        } catch (IllegalArgumentException e) {
            throw new TokenizerLoadException("unsupported or corrupt tokenizer.json " + file + ": " + e.getMessage(), e);
        }
    }

    static SentencePieceTokenizer parse(JsonNode root, String bosPiece, String eosPiece) {
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asString(""))) {
            throw new IllegalArgumentException("model.type is '" + model.path("type").asString("") + "', only BPE is implemented");
        }
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        boolean fuseUnk = model.path("fuse_unk").asBoolean(false);
        if (model.path("ignore_merges").asBoolean(false)) throw new IllegalArgumentException("ignore_merges is not supported");
        if (!model.path("continuing_subword_prefix").isNull() && !model.path("continuing_subword_prefix").isMissingNode()
                || !model.path("end_of_word_suffix").isNull() && !model.path("end_of_word_suffix").isMissingNode()) {
            throw new IllegalArgumentException("subword prefixes/suffixes are not supported");
        }
        String unkToken = model.path("unk_token").isString() ? model.path("unk_token").asString() : null;

        Map<Integer, String> byId = new HashMap<>();
        Map<String, Boolean> specials = new HashMap<>();
        for (var e : model.path("vocab").properties()) put(byId, e.getValue().asInt(), e.getKey());
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asString();
            put(byId, t.path("id").asInt(), content);
            specials.put(content, t.path("special").asBoolean(false));
        }
        if (byId.isEmpty()) throw new IllegalArgumentException("model.vocab is empty");
        int size = byId.keySet().stream().mapToInt(Integer::intValue).max().getAsInt() + 1;
        List<Vocabulary.Entry> entries = new ArrayList<>(size);
        for (int id = 0; id < size; id++) {
            String piece = byId.get(id);
            if (piece == null) throw new IllegalArgumentException("no token has id " + id);
            PieceType type;
            if (piece.equals(unkToken)) type = PieceType.UNKNOWN;
            else if (specials.containsKey(piece)) type = specials.get(piece) ? PieceType.CONTROL : PieceType.USER_DEFINED;
            else if (byteFallback && Vocabulary.byteValue(piece) >= 0) type = PieceType.BYTE;
            else type = PieceType.NORMAL;
            entries.add(new Vocabulary.Entry(piece, 0f, type));
        }
        var vocab = new Vocabulary(entries, Vocabulary.DEFAULT_UNK_SURFACE, bosPiece, eosPiece);
        return new SentencePieceTokenizer(vocab, normalizer(root), rankedMerges(model.path("merges"), vocab), byteFallback, fuseUnk);
    }

    private static void put(Map<Integer, String> byId, int id, String piece) {
        String old = byId.put(id, piece);
        if (old != null && !old.equals(piece)) throw new IllegalArgumentException("id " + id + " is both '" + old + "' and '" + piece + "'");
    }

    private static MergeTable rankedMerges(JsonNode merges, Vocabulary vocab) {
        Map<Long, Long> table = HashMap.newHashMap(merges.size());
        int rank = 0;
        for (JsonNode m : merges) {
            String left;
            String right;
            if (m.isArray()) { // newer tokenizers: ["a", "b"]
                left = m.get(0).asString();
                right = m.get(1).asString();
            } else { // "a b"; pieces hold "▁" rather than spaces, so the first space separates them
                String s = m.asString();
                int sp = s.indexOf(' ', 1);
                if (sp < 0) throw new IllegalArgumentException("merge '" + s + "' is not 'left right'");
                left = s.substring(0, sp);
                right = s.substring(sp + 1);
            }
            int l = vocab.idOf(left);
            int r = vocab.idOf(right);
            int merged = vocab.idOf(left + right);
            if (l < 0 || r < 0 || merged < 0) throw new IllegalArgumentException("merge '" + left + " " + right + "' uses a piece not in the vocab");
            table.put(MergeTable.ByRank.key(l, r), MergeTable.pack(rank++, merged));
        }
        return new MergeTable.ByRank(Map.copyOf(table));
    }

    private static NormalizerSpec normalizer(JsonNode root) {
        boolean prefix = false;
        boolean escape = false;
        List<JsonNode> steps = new ArrayList<>();
        flatten(root.path("normalizer"), steps);
        for (JsonNode n : steps) {
            String type = n.path("type").asString("");
            if (type.equals("Prepend") && n.path("prepend").asString("").equals(Vocabulary.SPACE)) {
                prefix = true;
            } else if (type.equals("Replace") && n.path("pattern").path("String").asString("").equals(" ")
                    && n.path("content").asString("").equals(Vocabulary.SPACE)) {
                escape = true;
            } else {
                throw new IllegalArgumentException("normalizer " + n + " is not supported");
            }
        }
        JsonNode pre = root.path("pre_tokenizer");
        if (!pre.isNull() && !pre.isMissingNode()) {
            // transformers' newer LLaMA exports move the "▁" handling into a non-splitting Metaspace.
            boolean metaspace = pre.path("type").asString("").equals("Metaspace")
                    && pre.path("replacement").asString("").equals(Vocabulary.SPACE)
                    && !pre.path("split").asBoolean(true);
            if (!metaspace) throw new IllegalArgumentException("pre_tokenizer " + pre + " is not supported");
            escape = true;
            prefix = !pre.path("prepend_scheme").asString("always").equals("never");
        }
        return new NormalizerSpec(prefix, false, escape);
    }

    private static void flatten(JsonNode n, List<JsonNode> out) {
        if (n.isNull() || n.isMissingNode()) return;
        if (n.path("type").asString("").equals("Sequence")) {
            for (JsonNode c : n.path("normalizers")) flatten(c, out);
        } else {
            out.add(n);
        }
    }

    // bos/eos pieces from the sibling config files transformers writes; LLaMA's names otherwise.
    private static String[] specialPieces(Path dir) {
        String bos = null;
        String eos = null;
        for (String name : new String[] {"special_tokens_map.json", "tokenizer_config.json"}) {
            Path p = dir == null ? Path.of(name) : dir.resolve(name);
            if (!Files.isRegularFile(p)) continue;
            JsonNode n = readJson(p);
            if (bos == null) bos = tokenName(n.path("bos_token"));
            if (eos == null) eos = tokenName(n.path("eos_token"));
        }
        return new String[] {bos != null ? bos : "<s>", eos != null ? eos : "</s>"};
    }

    private static String tokenName(JsonNode n) {
        if (n.isString()) return n.asString();
        if (n.isObject() && n.path("content").isString()) return n.path("content").asString();
        return null;
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(Files.readAllBytes(file));
        } catch (IOException | JacksonException e) {
            throw new TokenizerLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
