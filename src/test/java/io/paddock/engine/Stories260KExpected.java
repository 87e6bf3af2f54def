package io.paddock.engine;

/**
 * llama2.c's published greedy output for stories260K from BOS alone ({@code run -t 0.0 -n 200}). llama2.c's
 * {@code -n 200} runs 200 forward steps from BOS, i.e. generates 200 new tokens; an independent NumPy
 * re-implementation of llama2.c's forward pass agrees token for token. With 199 new tokens the text is the same
 * without its last token, " she".
 */
public final class Stories260KExpected {
    private Stories260KExpected() {}

    public static final String GREEDY_200 = "Once upon a time, there was a little girl named Lily. She loved to play"
            + " outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too"
            + " high.\nLily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. She"
            + " said, \"I want to play with your ball, but I can't find it.\"\nLily was sad and didn't know what to"
            + " do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\nLily didn't want to help her mom, so she";

    /** The same run stopped one token earlier. */
    public static final String GREEDY_199 = GREEDY_200.substring(0, GREEDY_200.length() - " she".length());
}
