package io.paddock.chat;

/**
 * One piece of a rendered prompt at the token level.
 *
 * <p>Text is encoded by the model's tokenizer as an ordinary string; {@link Bos} and {@link Eos}
 * stand for the tokenizer's control tokens and must be emitted as their ids. They are kept apart
 * because SentencePiece does not parse {@code "<s>"} in text as the BOS control token: a template
 * that only wrote the string would feed the model the characters {@code < s >} instead.
 */
public sealed interface PromptPart {

    /** Begin-of-sequence control token. */
    Bos BOS = new Bos();
    /** End-of-sequence control token. */
    Eos EOS = new Eos();

    /** Plain text, encoded on its own (SentencePiece adds its dummy-prefix space to each piece). */
    record Text(String text) implements PromptPart {
        public Text {
            if (text == null || text.isEmpty()) throw new IllegalArgumentException("empty text part");
        }
    }

    record Bos() implements PromptPart {}

    record Eos() implements PromptPart {}
}
