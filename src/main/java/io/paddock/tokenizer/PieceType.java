package io.paddock.tokenizer;

/** SentencePiece's piece types ({@code ModelProto.SentencePiece.Type}). */
public enum PieceType {
    NORMAL,
    UNKNOWN,
    CONTROL,
    USER_DEFINED,
    UNUSED,
    BYTE;

    /** The protobuf enum value; SentencePiece numbers BYTE 6 and UNUSED 5. */
    static PieceType fromProto(long value) {
        return switch ((int) value) {
            case 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> throw new IllegalArgumentException("unknown piece type " + value);
        };
    }

    /** Pieces BPE may produce by merging; the others live in SentencePiece's reserved map. */
    boolean mergeable() {
        return this == NORMAL || this == USER_DEFINED || this == UNUSED;
    }
}
