package io.paddock.chat;

import java.util.List;

/**
 * A chat rendered into the exact prompt a model was fine-tuned on.
 *
 * <p>How to encode it: if {@code addBos} is true and the tokenizer adds BOS by default
 * ({@code add_bos_token}), emit the BOS id first; then for each of {@code parts} emit the ids of
 * {@link PromptPart.Text} (encoded without special tokens), or the BOS/EOS id for
 * {@link PromptPart.Bos}/{@link PromptPart.Eos}. {@code text} is the same prompt as one string,
 * with the model's BOS/EOS strings written in, for logs and for tokenizers that parse them.
 *
 * @param text        the whole prompt as text (BOS/EOS written as their token strings)
 * @param stopStrings the format's default stop strings: where the model would start the next turn
 * @param addBos      whether the caller should still prepend BOS: false when the template itself
 *                    begins with BOS (then {@code parts} starts with {@link PromptPart.Bos})
 * @param parts       the prompt split at BOS/EOS control tokens; concatenated, equals {@code text}
 */
public record RenderedPrompt(String text, List<String> stopStrings, boolean addBos, List<PromptPart> parts) {

    public RenderedPrompt {
        if (text == null) throw new IllegalArgumentException("text must not be null");
        stopStrings = List.copyOf(stopStrings);
        parts = List.copyOf(parts);
    }

    /** A prompt without control tokens inside it: one text part. */
    public RenderedPrompt(String text, List<String> stopStrings, boolean addBos) {
        this(text, stopStrings, addBos, text.isEmpty() ? List.of() : List.of(new PromptPart.Text(text)));
    }
}
