package io.paddock.structured;

import io.paddock.structured.Frame.Lexeme;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A state of a compiled grammar: the set of parse stacks that are still alive after the bytes so far, each with
 * a lexeme on top (or empty: the output may end here). Ambiguity (optional properties, {@code anyOf} branches
 * that share a prefix, a choice) simply keeps several stacks until the bytes tell them apart.
 *
 * <p>Immutable; equal when the stack sets are equal, which is what lets masks be cached per state.
 */
final class NfaState implements GrammarState {
    /** Stacks deeper than this are dropped: it bounds the nesting of recursive grammars (about 130 levels of arrays). */
    static final int MAX_DEPTH = 400;
    /** A guard against grammars that expand forever without reading a byte (left recursion). */
    private static final int MAX_EXPANSIONS = 100_000;

    /** Memoize a state's transitions once it has been asked for this many. */
    private static final int MEMO_AFTER = 32;
    private static final Object DEAD = new Object();

    private final Stack[] stacks;
    private final boolean accepting;
    private final int hash;
    private volatile Object[] memo;
    private int calls;

    private NfaState(Set<Stack> stacks) {
        this.stacks = stacks.toArray(new Stack[0]);
        boolean acc = false;
        int h = 0;
        for (Stack s : this.stacks) {
            if (s == Stack.EMPTY) acc = true;
            h += s.hashCode();
        }
        this.accepting = acc;
        this.hash = h;
    }

    /** The state before any byte of {@code root}. */
    static NfaState start(Node root) {
        Closure c = new Closure();
        c.expand(root, Stack.EMPTY);
        if (c.out.isEmpty()) throw new IllegalArgumentException("grammar matches nothing");
        return new NfaState(c.out);
    }

    @Override
    public GrammarState advance(int b) {
        // Transitions of a state that is asked often (a mask's trie walk asks the same state for many bytes) are
        // memoized. The race on the array is benign: its values are immutable, and a missing one is recomputed.
        Object[] m = memo;
        if (m != null) {
            Object r = m[b];
            if (r != null) return r == DEAD ? null : (GrammarState) r;
        } else if (++calls > MEMO_AFTER) {
            memo = m = new Object[256];
        }
        GrammarState r = step(b);
        if (m != null) m[b] = r == null ? DEAD : r;
        return r;
    }

    private GrammarState step(int b) {
        if (stacks.length == 1) {
            // The common case inside a string or free text: one stack whose lexeme keeps its state.
            Stack s = stacks[0];
            if (s == Stack.EMPTY) return null;
            Lexeme top = (Lexeme) s.top;
            Lexeme next = top.step(b);
            if (next == null) return null;
            if (next == top) return this;
            Closure c = new Closure();
            c.lexeme(next, s.rest);
            return c.out.isEmpty() ? null : new NfaState(c.out);
        }
        Lexeme[] next = new Lexeme[stacks.length];
        boolean same = true;
        boolean endKept = false;
        boolean any = false;
        for (int i = 0; i < stacks.length; i++) {
            Stack s = stacks[i];
            if (s == Stack.EMPTY) continue;
            Lexeme top = (Lexeme) s.top;
            Lexeme n = top.step(b);
            next[i] = n;
            if (n != null) any = true;
            if (n != top) same = false;
            else if (s.rest == Stack.EMPTY && top.canEnd() && top.after() == null) endKept = true;
        }
        if (!any) return null;
        // Every lexeme stays as it is (free text, a string beside another branch): the closure is this state again.
        if (same && (!accepting || endKept)) return this;
        Closure c = new Closure();
        for (int i = 0; i < stacks.length; i++) {
            if (next[i] != null) c.lexeme(next[i], stacks[i].rest);
        }
        return c.out.isEmpty() ? null : new NfaState(c.out);
    }

    @Override
    public boolean isAccepting() {
        return accepting;
    }

    @Override
    public boolean isTerminal() {
        return accepting && stacks.length == 1;
    }

    /** How many stacks are alive (for tests and diagnostics). */
    int width() {
        return stacks.length;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof NfaState other) || other.hash != hash || other.stacks.length != stacks.length) return false;
        if (stacks.length == 1) return stacks[0].equals(other.stacks[0]);
        return Set.of(stacks).equals(Set.of(other.stacks));
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "NfaState" + Arrays.toString(stacks);
    }

    /** Expands stacks until each has a lexeme on top (or is empty), collecting the distinct results. */
    private static final class Closure {
        final Set<Stack> out = new LinkedHashSet<>(8);
        int expansions;

        /** A stack with lexeme {@code l} on top of {@code rest}. */
        void lexeme(Lexeme l, Stack rest) {
            if (l.canContinue()) add(new Stack(l, rest));
            if (l.canEnd()) {
                Node after = l.after();
                if (after != null) expand(after, rest);
                else close(rest);
            }
        }

        private void add(Stack s) {
            if (s.depth <= MAX_DEPTH) out.add(s);
        }

        /** Pops finished frames off {@code s} and expands what comes next. */
        void close(Stack s) {
            if (s == null) return; // too deep
            if (++expansions > MAX_EXPANSIONS) {
                throw new IllegalStateException("grammar expands without reading input (left recursion?)");
            }
            if (s == Stack.EMPTY) {
                out.add(s);
                return;
            }
            Frame top = s.top;
            Stack rest = s.rest;
            switch (top) {
                case Frame.Pending p -> expand(p.node(), rest);
                case Frame.SeqAt at -> {
                    Node.Seq seq = at.seq();
                    int i = at.index();
                    if (i == seq.items.length) close(rest);
                    else expand(seq.items[i], i + 1 < seq.items.length ? push(new Frame.SeqAt(seq, i + 1), rest) : rest);
                }
                case Frame.RepAt at -> {
                    Node.Rep r = at.rep();
                    int c = at.count();
                    if (c >= r.min) close(rest);
                    if (r.max < 0 || c < r.max) {
                        int nc = r.max < 0 ? Math.min(c + 1, r.min) : c + 1;
                        Stack next = push(new Frame.RepAt(r, nc), rest);
                        if (next == null) return;
                        if (c == 0 || r.sep == null) expand(r.item, next);
                        else expand(r.sep, push(new Frame.Pending(r.item), next));
                    }
                }
                case Lexeme l -> add(s); // not reached: lexemes are handled in lexeme()
            }
        }

        /** Expands {@code node} on top of {@code rest}. */
        void expand(Node node, Stack rest) {
            if (rest == null) return; // too deep
            if (++expansions > MAX_EXPANSIONS) {
                throw new IllegalStateException("grammar expands without reading input (left recursion?)");
            }
            switch (node) {
                case Node.Empty e -> close(rest);
                case Node.Lit lit -> {
                    if (lit.bytes.length == 0) close(rest);
                    else add(new Stack(new Frame.LitLex(lit, 0), rest));
                }
                case Node.Seq seq -> {
                    if (seq.items.length == 0) close(rest);
                    else expand(seq.items[0], seq.items.length > 1 ? push(new Frame.SeqAt(seq, 1), rest) : rest);
                }
                case Node.Alt alt -> {
                    for (Node o : alt.options) expand(o, rest);
                }
                case Node.Rep rep -> close(push(new Frame.RepAt(rep, 0), rest));
                case Node.Ref ref -> expand(ref.target, rest);
                case Node.Ws ws -> lexeme(Frame.WsLex.ALL[0], rest);
                case Node.ByteClass cls -> add(new Stack(new Frame.ClassLex(cls, false), rest));
                case Node.Str str -> lexeme(Lexemes.startString(str), rest);
                case Node.Num num -> lexeme(new Frame.NumLex(num.integer, Lexemes.N_START, 0), rest);
                case Node.FreeOr f -> lexeme(new Frame.FreeLex(f, Lexemes.F_LEAD, 0, 0), rest);
                case Node.Ext ext -> lexeme(new Frame.ExtLex(ext.grammar.start()), rest);
            }
        }

        private static Stack push(Frame f, Stack rest) {
            if (rest == null || rest.depth >= MAX_DEPTH) return null;
            return new Stack(f, rest);
        }
    }

    /** An immutable linked stack of frames with a cached hash. */
    static final class Stack {
        static final Stack EMPTY = new Stack();

        final Frame top;
        final Stack rest;
        final int depth;
        private final int hash;

        private Stack() {
            this.top = null;
            this.rest = null;
            this.depth = 0;
            this.hash = 1;
        }

        Stack(Frame top, Stack rest) {
            this.top = top;
            this.rest = rest;
            this.depth = rest.depth + 1;
            this.hash = 31 * rest.hash + top.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) return true;
            if (!(o instanceof Stack other)) return false;
            Stack a = this;
            Stack b = other;
            while (a != b) {
                if (a.hash != b.hash || a.depth != b.depth || !a.top.equals(b.top)) return false;
                a = a.rest;
                b = b.rest;
            }
            return true;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("[");
            for (Stack s = this; s != EMPTY; s = s.rest) {
                if (s != this) sb.append(", ");
                sb.append(s.top);
            }
            return sb.append(']').toString();
        }
    }
}
