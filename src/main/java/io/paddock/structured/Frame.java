package io.paddock.structured;

/**
 * One frame of a parse stack in {@link NfaState}: what remains of a sequence or repetition, a node still to
 * expand, or the lexeme being read (always the top frame of a live stack). Frames are records over identity-equal
 * nodes, so equal frames mean the same position in the same grammar.
 */
sealed interface Frame {
    /** Items {@code index..} of a sequence remain. */
    record SeqAt(Node.Seq seq, int index) implements Frame {}

    /** {@code count} items of a repetition are done (saturated at {@code min} when unbounded). */
    record RepAt(Node.Rep rep, int count) implements Frame {}

    /** A node to expand when this frame comes to the top. */
    record Pending(Node node) implements Frame {}

    /** A lexeme in progress: consumes bytes one at a time. */
    sealed interface Lexeme extends Frame {
        /** The lexeme after byte {@code b}, or null when b cannot continue it. */
        Lexeme step(int b);

        /** The lexeme may end here. */
        boolean canEnd();

        /** Some byte may continue the lexeme. */
        boolean canContinue();

        /** What must follow when the lexeme ends here, or null for nothing (the rest of the stack). */
        default Node after() {
            return null;
        }
    }

    /** Bytes {@code pos..} of a literal remain. */
    record LitLex(Node.Lit lit, int pos) implements Lexeme {
        public Lexeme step(int b) {
            return pos < lit.bytes.length && (lit.bytes[pos] & 0xFF) == b ? new LitLex(lit, pos + 1) : null;
        }

        public boolean canEnd() { return pos == lit.bytes.length; }

        public boolean canContinue() { return pos < lit.bytes.length; }
    }

    /** One byte of a class: {@code done} once read. */
    record ClassLex(Node.ByteClass cls, boolean done) implements Lexeme {
        public Lexeme step(int b) {
            return !done && cls.allowed[b] ? new ClassLex(cls, true) : null;
        }

        public boolean canEnd() { return done; }

        public boolean canContinue() { return !done; }
    }

    /**
     * A gap between two JSON tokens, as llama.cpp's JSON-schema grammars bound it: nothing, one space, or a line feed
     * then at most {@link Lexemes#MAX_INDENT} spaces or tabs. {@code state}: 0 nothing read, 1 the space read, 2 + k
     * the line feed and k indentation bytes read. Pretty-printed JSON fits; a model cannot loop in whitespace.
     */
    record WsLex(int state) implements Lexeme {
        static final WsLex[] ALL = new WsLex[Lexemes.MAX_INDENT + 3];
        static {
            for (int i = 0; i < ALL.length; i++) ALL[i] = new WsLex(i);
        }

        public Lexeme step(int b) {
            if (state == 0) return b == ' ' ? ALL[1] : b == '\n' ? ALL[2] : null;
            return state >= 2 && state - 2 < Lexemes.MAX_INDENT && (b == ' ' || b == '\t') ? ALL[state + 1] : null;
        }

        public boolean canEnd() { return true; }

        public boolean canContinue() { return state == 0 || (state >= 2 && state - 2 < Lexemes.MAX_INDENT); }
    }

    /**
     * A JSON string: {@code phase} (see {@link Lexemes}), code points so far ({@code count}, saturated where no
     * bound needs it), {@code aux}/{@code digits} for UTF-8 and {@code \\u} escapes, and {@code prefix}: the
     * string's UTF-8 so far while it is still a prefix of an excluded string (else null).
     */
    record StrLex(Node.Str str, int phase, int count, int aux, int digits, String prefix) implements Lexeme {
        public Lexeme step(int b) {
            return Lexemes.stepString(this, b);
        }

        public boolean canEnd() { return phase == Lexemes.S_CLOSED; }

        public boolean canContinue() { return phase != Lexemes.S_CLOSED; }
    }

    /** A JSON number in {@code phase} with {@code digits} digits in its current part. */
    record NumLex(boolean integer, int phase, int digits) implements Lexeme {
        public Lexeme step(int b) {
            return Lexemes.stepNumber(this, b);
        }

        public boolean canEnd() { return Lexemes.numberCanEnd(phase); }

        public boolean canContinue() { return Lexemes.numberCanContinue(this); }
    }

    /**
     * Free text or a trigger: {@code phase} LEAD ({@code matched} bytes of the trigger read, after whitespace),
     * FREE (any UTF-8; {@code utf8} the pending character) or TRIGGERED (then {@code after()} follows).
     */
    record FreeLex(Node.FreeOr node, int phase, int matched, int utf8) implements Lexeme {
        public Lexeme step(int b) {
            return Lexemes.stepFree(this, b);
        }

        public boolean canEnd() { return phase == Lexemes.F_TRIGGERED || utf8 == 0; }

        public boolean canContinue() { return phase != Lexemes.F_TRIGGERED; }

        @Override
        public Node after() {
            return phase == Lexemes.F_TRIGGERED ? node.then : null;
        }
    }

    /** A state of a grammar implemented elsewhere. */
    record ExtLex(GrammarState state) implements Lexeme {
        public Lexeme step(int b) {
            GrammarState next = state.advance(b);
            return next == null ? null : new ExtLex(next);
        }

        public boolean canEnd() { return state.isAccepting(); }

        public boolean canContinue() { return !state.isTerminal(); }
    }
}
