package io.paddock.chat;

import static io.paddock.chat.ChatMessage.assistant;
import static io.paddock.chat.ChatMessage.system;
import static io.paddock.chat.ChatMessage.user;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every built-in format rejects the same invalid chats with an IllegalArgumentException naming messages. */
class InvalidChatInputTests {

    static List<String> builtIns() {
        return List.copyOf(ChatTemplates.names());
    }

    @ParameterizedTest
    @MethodSource("builtIns")
    void rejectsInvalidChats(String name) {
        ChatTemplate t = ChatTemplates.named(name);
        assertRejected(() -> t.render(List.of(), true), "at least one message");
        assertRejected(() -> t.render(null, true), "at least one message");
        assertRejected(() -> t.render(List.of(system("s")), true), "at least one user message");
        assertRejected(() -> t.render(List.of(user("a"), system("s")), true), "messages[1]: a system message");
        assertRejected(() -> t.render(List.of(system("s"), system("t"), user("a")), true), "messages[1]: a system message");
        assertRejected(() -> t.render(List.of(user("a"), user("b")), true), "messages[1]: expected role 'assistant'");
        assertRejected(() -> t.render(List.of(assistant("a"), user("b")), true), "messages[0]: expected role 'user'");
        assertRejected(() -> t.render(List.of(user("a"), assistant("b")), true), "last message must be from the user");
    }

    @Test
    void unknownRoleAndNullContentAreRejectedAtTheEdge() {
        assertRejected(() -> new ChatMessage("function", "x"), "unknown role 'function'");
        assertRejected(() -> new ChatMessage("tool", "x"), "needs the tool_call_id");
        assertRejected(() -> new ChatMessage("user", null, List.of(Tools.PARIS), null, null), "only an assistant message");
        assertRejected(() -> new ChatMessage(null, "x"), "unknown role");
        assertRejected(() -> new ChatMessage("user", null), "must not be null");
    }

    private static void assertRejected(ThrowableAssert.ThrowingCallable call, String message) {
        assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("messages").hasMessageContaining(message);
    }
}
