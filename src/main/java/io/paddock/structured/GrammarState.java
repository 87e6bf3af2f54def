package io.paddock.structured;

/**
 * One immutable state of a {@link Grammar}'s byte automaton. States are values: two states that accept the same
 * continuations from here should be {@code equals} (with equal hash codes) wherever that is cheap to see, because
 * token masks are cached per state.
 */
public interface GrammarState {
    /** The state after byte {@code b} (0..255), or null when no valid output continues with it. */
    GrammarState advance(int b);

    /** The bytes so far form a complete valid output: the sequence may end here. */
    boolean isAccepting();

    /** Accepting, and no byte may follow: only the end of the sequence is allowed. */
    boolean isTerminal();
}
