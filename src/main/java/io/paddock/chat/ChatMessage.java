package io.paddock.chat;

import java.util.Set;

/**
 * One message of an OpenAI chat request.
 *
 * <p>The role is checked here, at the edge, so that every template (built-in or Jinja) only ever
 * sees the three roles the OpenAI chat API defines for plain text chat.
 *
 * @param role    {@code system}, {@code user} or {@code assistant}
 * @param content the message text, never null (use "" for an empty message)
 */
public record ChatMessage(String role, String content) {

    static final String SYSTEM = "system";
    static final String USER = "user";
    static final String ASSISTANT = "assistant";
    private static final Set<String> ROLES = Set.of(SYSTEM, USER, ASSISTANT);

    public ChatMessage {
        if (role == null || !ROLES.contains(role)) {
            throw new IllegalArgumentException(
                    "messages: unknown role '" + role + "' (expected system, user or assistant)");
        }
        if (content == null) {
            throw new IllegalArgumentException("messages: content of a '" + role + "' message must not be null");
        }
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
}
