package io.paddock.structured;

/**
 * A constraint on a generated text, as a byte-level automaton over its UTF-8 bytes: JSON for a schema, a tool
 * call, free text with a trigger. Compiled once per request, immutable and thread-safe, so the choices of one
 * request (n &gt; 1) share it. {@link Grammars} builds them; {@link TokenConstraint} applies one to a token stream.
 */
public interface Grammar {
    /** The state before any byte. */
    GrammarState start();

    /** A short description for logs and error messages, e.g. {@code json_schema(person)}. */
    String describe();
}
