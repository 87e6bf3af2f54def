package io.paddock.chat;

import java.util.List;

/** Turns chat messages into a model's prompt format. Implementations are immutable and thread-safe. */
public interface ChatTemplate {

    /** The template's name, e.g. {@code vicuna-v1.1}; {@code jinja} for a Jinja template. */
    String name();

    /**
     * Renders {@code messages}; tool calls and tool results in them are written as {@link #toolCallFormat()} writes
     * them.
     *
     * @param addGenerationPrompt end with the cue for the assistant's next answer
     * @throws IllegalArgumentException when the messages cannot be expressed in this format
     */
    RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /**
     * Renders {@code messages} with the functions the model may call ({@code tools}, possibly empty) described in
     * the prompt as {@link #toolCallFormat()} describes them.
     */
    default RenderedPrompt render(List<ChatMessage> messages, List<ToolDefinition> tools, boolean addGenerationPrompt) {
        return render(toolCallFormat().lower(messages, tools), addGenerationPrompt);
    }

    /** How this format tells the model about functions and how the model writes a call. */
    default ToolCallFormat toolCallFormat() {
        return ToolCallFormat.DEFAULT;
    }
}
