package io.paddock.tokenizer;

/**
 * The {@link Tokenizer} for both sources: a SentencePiece {@code tokenizer.model} (score-ranked merges)
 * and a Hugging Face {@code tokenizer.json} (rank-ordered merges) load into this one class.
 */
final class SentencePieceTokenizer implements Tokenizer {
    private final Vocabulary vocab;
    private final NormalizerSpec normalizer;
    private final MergeTable merges;
    private final boolean byteFallback;
    private final BpeEncoder bpe;

    SentencePieceTokenizer(Vocabulary vocab, NormalizerSpec normalizer, MergeTable merges, boolean byteFallback, boolean fuseUnk) {
        this.vocab = vocab;
        this.normalizer = normalizer;
        this.merges = merges;
        this.byteFallback = byteFallback;
        this.bpe = new BpeEncoder(vocab, merges, byteFallback, fuseUnk);
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bosId() {
        return vocab.bosId();
    }

    @Override
    public int eosId() {
        return vocab.eosId();
    }

    @Override
    public int unkId() {
        return vocab.unkId();
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean addEos) {
        String normalized = normalizer.normalize(text);
        var out = new IntArrayBuilder(normalized.length() / 3 + 2);
        if (addBos && vocab.bosId() >= 0) out.add(vocab.bosId());
        bpe.encode(normalized, out);
        if (addEos && vocab.eosId() >= 0) out.add(vocab.eosId());
        return out.toArray();
    }

    @Override
    public String decode(int[] ids) {
        var detok = new IncrementalDetokenizer(this);
        var sb = new StringBuilder();
        for (int id : ids) sb.append(detok.push(id));
        return sb.append(detok.flush()).toString();
    }

    @Override
    public String piece(int id) {
        return vocab.piece(id);
    }

    @Override
    public boolean isControl(int id) {
        PieceType t = vocab.type(id);
        return t == PieceType.CONTROL || t == PieceType.UNKNOWN;
    }

    @Override
    public byte[] pieceBytes(int id) {
        return vocab.surface(id);
    }

    @Override
    public boolean isByte(int id) {
        return vocab.type(id) == PieceType.BYTE;
    }

    @Override
    public boolean isUnknown(int id) {
        return vocab.type(id) == PieceType.UNKNOWN;
    }

    @Override
    public LeadingSpace leadingSpace() {
        return normalizer.leadingSpace();
    }

    // For the reference-parity tests.
    Vocabulary vocabulary() {
        return vocab;
    }

    MergeTable merges() {
        return merges;
    }

    NormalizerSpec normalizer() {
        return normalizer;
    }

    boolean byteFallback() {
        return byteFallback;
    }
}
