package io.paddock.chat;

import java.util.List;

/** Turns chat messages into a model's prompt format. Implementations are immutable and thread-safe. */
public interface ChatTemplate {

    /** The template's name, e.g. {@code vicuna-v1.1}; {@code jinja} for a Jinja template. */
    String name();

    /**
     * Renders {@code messages}.
     *
     * @param addGenerationPrompt end with the cue for the assistant's next answer
     * @throws IllegalArgumentException when the messages cannot be expressed in this format
     */
    RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt);
}
