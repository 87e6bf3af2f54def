package io.paddock.chat;

import java.util.List;
import java.util.Set;

/**
 * One message of an OpenAI chat request.
 *
 * <p>The role is checked here, at the edge, so that every template (built-in or Jinja) only ever sees the roles the
 * OpenAI chat API defines: {@code system}, {@code user}, {@code assistant} (which may carry tool calls) and
 * {@code tool} (a tool's result; the legacy {@code function} role arrives as a tool message with a name and no
 * call id). Built-in formats see tool calls and results only as text a {@link ToolCallFormat} wrote for them.
 *
 * @param role       {@code system}, {@code user}, {@code assistant} or {@code tool}
 * @param content    the message text; null only for an assistant message that makes tool calls
 * @param toolCalls  the calls an assistant message made (empty for every other message)
 * @param toolCallId for a tool message: the id of the call it answers (null for a legacy function result)
 * @param name       for a tool message: the function's name, where the client gave it; else null
 */
public record ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId, String name) {

    static final String SYSTEM = "system";
    static final String USER = "user";
    static final String ASSISTANT = "assistant";
    static final String TOOL = "tool";
    private static final Set<String> ROLES = Set.of(SYSTEM, USER, ASSISTANT, TOOL);

    public ChatMessage {
        if (role == null || !ROLES.contains(role)) {
            throw new IllegalArgumentException(
                    "messages: unknown role '" + role + "' (expected system, user, assistant or tool)");
        }
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        if (!toolCalls.isEmpty() && !role.equals(ASSISTANT)) {
            throw new IllegalArgumentException("messages: only an assistant message may carry tool calls");
        }
        if (content == null && toolCalls.isEmpty()) {
            throw new IllegalArgumentException("messages: content of a '" + role + "' message must not be null");
        }
        if (role.equals(TOOL) && toolCallId == null && name == null) {
            throw new IllegalArgumentException("messages: a tool message needs the tool_call_id of the call it answers");
        }
    }

    /** A plain text message. */
    public ChatMessage(String role, String content) {
        this(role, content, List.of(), null, null);
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(SYSTEM, content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(USER, content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage(ASSISTANT, content);
    }

    /** An assistant message that calls tools; {@code content} may be null. */
    public static ChatMessage assistant(String content, List<ToolCall> calls) {
        return new ChatMessage(ASSISTANT, content, calls, null, null);
    }

    /** A tool's result for the call {@code toolCallId} (null for a legacy function result, which needs the name). */
    public static ChatMessage tool(String toolCallId, String name, String content) {
        return new ChatMessage(TOOL, content, List.of(), toolCallId, name);
    }

    /** Whether a format must turn this message into text before a plain chat format can show it. */
    boolean isToolTraffic() {
        return role.equals(TOOL) || !toolCalls.isEmpty();
    }

    /** The content, "" where there is none. */
    String text() {
        return content == null ? "" : content;
    }
}
