package io.paddock.structured;

/** A grammar compiled to {@link Node}s and run by {@link NfaState}: what every {@link Grammars} factory returns. */
final class CompiledGrammar implements Grammar {
    final Node root;
    private final String description;
    private final NfaState start;

    CompiledGrammar(Node root, String description) {
        this.root = root;
        this.description = description;
        this.start = NfaState.start(root);
    }

    @Override
    public GrammarState start() {
        return start;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public String toString() {
        return description;
    }
}
