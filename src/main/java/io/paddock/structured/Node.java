package io.paddock.structured;

import java.nio.charset.StandardCharsets;

/**
 * One node of a compiled grammar: a tree (a graph, where {@link Ref} closes a cycle) of sequences, choices and
 * repetitions over lexemes (literals, bounded whitespace, JSON strings and numbers, free text). Nodes compare by
 * identity, which is what the stacks of {@link NfaState} need: two frames are equal when they point at the same
 * node in the same position.
 */
abstract sealed class Node {
    /** The empty output. */
    static final class Empty extends Node {
        static final Empty INSTANCE = new Empty();
        private Empty() {}
    }

    /** Exactly these bytes. */
    static final class Lit extends Node {
        final byte[] bytes;
        final String text;

        Lit(String text) {
            this.text = text;
            this.bytes = text.getBytes(StandardCharsets.UTF_8);
        }
    }

    /** The items one after another. */
    static final class Seq extends Node {
        final Node[] items;

        Seq(Node... items) {
            this.items = items.clone();
        }
    }

    /** Any one of the options. */
    static final class Alt extends Node {
        final Node[] options;

        Alt(Node... options) {
            this.options = options.clone();
        }
    }

    /** {@code item (sep item)*}, between {@code min} and {@code max} items ({@code max} -1: unbounded). */
    static final class Rep extends Node {
        final Node item;
        final Node sep; // may be null
        final int min;
        final int max;

        Rep(Node item, Node sep, int min, int max) {
            this.item = item;
            this.sep = sep;
            this.min = min;
            this.max = max;
        }
    }

    /** A forward reference, set once while compiling (recursive schemas). */
    static final class Ref extends Node {
        Node target;
        final String name;

        Ref(String name) {
            this.name = name;
        }
    }

    /** A gap between JSON tokens: nothing, one space, or a line feed and bounded indentation (see {@code Frame.WsLex}). */
    static final class Ws extends Node {
        static final Ws INSTANCE = new Ws();
        private Ws() {}
    }

    /**
     * A JSON string with quotes, of {@code min}..{@code max} code points ({@code max} -1: unbounded). When
     * {@code excluded} is not null the decoded string must differ from each of them (keys of extra properties
     * must not repeat declared ones).
     */
    static final class Str extends Node {
        final int min;
        final int max;
        /** The excluded strings as their UTF-8 bytes, one char per byte (ISO-8859-1), or null. */
        final String[] excluded;

        Str(int min, int max, String[] excluded) {
            this.min = min;
            this.max = max;
            if (excluded == null || excluded.length == 0) {
                this.excluded = null;
            } else {
                this.excluded = new String[excluded.length];
                for (int i = 0; i < excluded.length; i++) {
                    this.excluded[i] = new String(excluded[i].getBytes(StandardCharsets.UTF_8),
                            StandardCharsets.ISO_8859_1);
                }
            }
        }
    }

    /** A JSON number; {@code integer}: without fraction or exponent. */
    static final class Num extends Node {
        final boolean integer;

        Num(boolean integer) {
            this.integer = integer;
        }
    }

    /** Any text that does not start with {@code trigger} (after optional whitespace), or the trigger then {@code then}. */
    static final class FreeOr extends Node {
        final byte[] trigger;
        final Node then;

        FreeOr(byte[] trigger, Node then) {
            this.trigger = trigger;
            this.then = then;
        }
    }

    /** One byte from a set. */
    static final class ByteClass extends Node {
        final boolean[] allowed;

        ByteClass(String chars) {
            this.allowed = new boolean[256];
            for (char c : chars.toCharArray()) allowed[c] = true;
        }
    }

    /** A grammar implemented elsewhere, driven through its own states. */
    static final class Ext extends Node {
        final Grammar grammar;

        Ext(Grammar grammar) {
            this.grammar = grammar;
        }
    }
}
