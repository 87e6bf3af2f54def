package io.paddock.chat;

/**
 * A function call an assistant made, as OpenAI's {@code tool_calls[i]} (or the legacy {@code function_call}) carries it.
 *
 * @param id        the call's id ({@code call_...}); null for a legacy {@code function_call}
 * @param name      the function's name
 * @param arguments the arguments as JSON text, exactly as the model wrote them (OpenAI sends a string)
 */
public record ToolCall(String id, String name, String arguments) {
    public ToolCall {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("messages: a tool call needs a function name");
        if (arguments == null) arguments = "{}";
    }
}
