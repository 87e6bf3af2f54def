package io.paddock.chat;

/**
 * One tool call as the model writes it: {@code opener + name + beforeArguments + <arguments object> + closer}, calls
 * one after another joined by {@code separator}. The exact strings are what the grammar generates; the patterns are
 * the same text where a space stands for optional whitespace, so that a model writing without a grammar is read too.
 *
 * @param trigger         how the opener starts: output that begins with it is a call (free text otherwise)
 * @param opener          the text before the function's name, starting with {@code trigger}
 * @param beforeArguments the text between the name and the arguments object
 * @param closer          the text after the arguments object
 * @param separator       between two calls
 * @param severalCalls    whether the format can hold more than one call per answer
 */
public record CallSyntax(String trigger, String opener, String beforeArguments, String closer, String separator,
        boolean severalCalls, String openerPattern, String beforeArgumentsPattern, String closerPattern) {

    public CallSyntax {
        if (!opener.startsWith(trigger)) throw new IllegalArgumentException("the opener must start with the trigger");
    }

    /** The exact text of a call up to its arguments object. */
    public String prefix(String name) {
        return opener + name + beforeArguments;
    }

    /** A whole call, as written into a prompt's history. */
    public String call(String name, String arguments) {
        return prefix(name) + arguments + closer;
    }
}
