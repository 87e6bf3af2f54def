package io.paddock.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The pieces of a vocabulary with their scores and types, and the lookups encoding and decoding need.
 * Immutable.
 */
final class Vocabulary {
    static final String SPACE = "\u2581";
    static final String DEFAULT_UNK_SURFACE = " \u2047 ";

    private final String[] pieces; // (vocabSize)
    private final float[] scores; // (vocabSize) BPE merge score; 0 where the source has none
    private final PieceType[] types; // (vocabSize)
    private final byte[][] surfaces; // (vocabSize) pieceBytes(id), precomputed
    private final int[] byteIds; // (256) id of piece <0xXX>, or -1
    private final Map<String, Integer> ids;
    private final int unkId;
    private final int bosId;
    private final int eosId;

    /** One vocabulary entry. */
    record Entry(String piece, float score, PieceType type) {}

    Vocabulary(List<Entry> entries, String unkSurface, String bosPiece, String eosPiece) {
        int n = entries.size();
        pieces = new String[n];
        scores = new float[n];
        types = new PieceType[n];
        surfaces = new byte[n][];
        byteIds = new int[256];
        Arrays.fill(byteIds, -1);
        ids = HashMap.newHashMap(n);
        int unk = -1;
        for (int i = 0; i < n; i++) {
            Entry e = entries.get(i);
            if (e.piece() == null || e.piece().isEmpty()) throw new IllegalArgumentException("piece " + i + " is empty");
            pieces[i] = e.piece();
            scores[i] = e.score();
            types[i] = e.type();
            if (ids.putIfAbsent(e.piece(), i) != null) {
                throw new IllegalArgumentException("piece " + i + " '" + e.piece() + "' is a duplicate");
            }
            switch (e.type()) {
                case UNKNOWN -> {
                    if (unk < 0) unk = i;
                    surfaces[i] = unkSurface.getBytes(StandardCharsets.UTF_8);
                }
                case CONTROL -> surfaces[i] = new byte[0];
                case BYTE -> {
                    int b = byteValue(e.piece());
                    if (b < 0) throw new IllegalArgumentException("piece " + i + " '" + e.piece() + "' is not a byte piece");
                    byteIds[b] = i;
                    surfaces[i] = new byte[] {(byte) b};
                }
                default -> surfaces[i] = e.piece().replace(SPACE, " ").getBytes(StandardCharsets.UTF_8);
            }
        }
        if (unk < 0) throw new IllegalArgumentException("the vocabulary has no unknown piece");
        unkId = unk;
        bosId = controlId(bosPiece);
        eosId = controlId(eosPiece);
    }

    /** The byte of {@code <0xXX>}, or -1 when {@code piece} is not of that form. */
    static int byteValue(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') return -1;
        int hi = Character.digit(piece.charAt(3), 16);
        int lo = Character.digit(piece.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    // As SentencePiece's bos_id()/eos_id(): the named piece counts only if it is a control piece.
    private int controlId(String piece) {
        Integer id = piece == null ? null : ids.get(piece);
        return id != null && types[id] == PieceType.CONTROL ? id : -1;
    }

    int size() {
        return pieces.length;
    }

    String piece(int id) {
        return pieces[check(id)];
    }

    float score(int id) {
        return scores[check(id)];
    }

    PieceType type(int id) {
        return types[check(id)];
    }

    byte[] surface(int id) {
        return surfaces[check(id)].clone();
    }

    /** SentencePiece's {@code PieceToId}: the id of {@code piece}, or the unknown id. */
    int idOrUnk(String piece) {
        Integer id = ids.get(piece);
        return id == null ? unkId : id;
    }

    /** The id of {@code piece}, or -1. */
    int idOf(String piece) {
        Integer id = ids.get(piece);
        return id == null ? -1 : id;
    }

    /** The id of byte piece {@code <0xXX>} for {@code b} (0..255), or -1. */
    int byteId(int b) {
        return byteIds[b];
    }

    boolean hasBytePieces() {
        for (int id : byteIds) if (id >= 0) return true;
        return false;
    }

    int unkId() {
        return unkId;
    }

    int bosId() {
        return bosId;
    }

    int eosId() {
        return eosId;
    }

    private int check(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is out of range [0, " + pieces.length + ")");
        }
        return id;
    }
}
