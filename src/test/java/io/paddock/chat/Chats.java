package io.paddock.chat;

import static io.paddock.chat.ChatMessage.assistant;
import static io.paddock.chat.ChatMessage.system;
import static io.paddock.chat.ChatMessage.user;

import java.util.List;

/** The conversations every format test renders. */
final class Chats {
    private Chats() {}

    static final List<ChatMessage> ONE_TURN = List.of(user("Hello?"));
    static final List<ChatMessage> ONE_TURN_SYSTEM = List.of(system("Be brief."), user("Hello?"));
    static final List<ChatMessage> MULTI_TURN = List.of(user("Hi"), assistant("Hello! How can I help?"), user("Tell me a joke."));
    static final List<ChatMessage> MULTI_TURN_SYSTEM = List.of(
            system("Be brief."), user("Hi"), assistant("Hello! How can I help?"), user("Tell me a joke."));
    static final List<ChatMessage> ENDS_WITH_ANSWER = List.of(user("Hi"), assistant("Hello!"));
}
