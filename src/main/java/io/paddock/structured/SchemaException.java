package io.paddock.structured;

/**
 * A JSON Schema that {@link Grammars#jsonSchema} cannot turn into a grammar: an unsupported keyword, a keyword
 * with an invalid value, an unresolvable {@code $ref}. The message names the keyword and its JSON pointer, e.g.
 * {@code unsupported keyword 'patternProperties' at #/properties/tags}.
 */
public final class SchemaException extends IllegalArgumentException {
    private final String keyword;
    private final String pointer;

    /** An error about {@code keyword} in the schema at {@code pointer}; {@code message} says it in full. */
    public SchemaException(String keyword, String pointer, String message) {
        super(message);
        this.keyword = keyword;
        this.pointer = pointer;
    }

    /** The offending keyword, e.g. {@code "patternProperties"}. */
    public String keyword() {
        return keyword;
    }

    /** The JSON pointer of the schema that holds it, e.g. {@code "#/properties/tags"} ({@code "#"}: the root). */
    public String pointer() {
        return pointer;
    }
}
