package io.paddock.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Chat messages checked against the shape every built-in format was trained on: an optional
 * system message first, then user/assistant turns strictly alternating, starting with the user.
 *
 * <p>None of the built-in formats can place a system message anywhere but the start, nor two
 * user (or two assistant) messages in a row, so those are rejected instead of silently merged.
 *
 * @param system    the leading system message's content, if any
 * @param exchanges user turns, each with the assistant's answer where one was given
 */
record ValidConversation(Optional<String> system, List<Exchange> exchanges) {

    /**
     * One user message and the assistant's answer to it.
     *
     * @param user      the user's message
     * @param assistant the answer, or null for the last exchange when the answer is still to come
     */
    record Exchange(String user, String assistant) {
        boolean answered() {
            return assistant != null;
        }
    }

    ValidConversation {
        exchanges = List.copyOf(exchanges);
    }

    static ValidConversation of(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException("messages must contain at least one message");
        }
        Optional<String> system = Optional.empty();
        int first = 0;
        if (messages.getFirst().role().equals(ChatMessage.SYSTEM)) {
            system = Optional.of(messages.getFirst().content());
            first = 1;
        }
        List<Exchange> exchanges = new ArrayList<>();
        String pendingUser = null;
        for (int i = first; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            String expected = pendingUser == null ? ChatMessage.USER : ChatMessage.ASSISTANT;
            if (m.role().equals(ChatMessage.SYSTEM)) {
                throw new IllegalArgumentException("messages[" + i + "]: a system message is only allowed as the"
                        + " first message in this chat format");
            }
            if (!m.role().equals(expected)) {
                throw new IllegalArgumentException("messages[" + i + "]: expected role '" + expected + "' but got '"
                        + m.role() + "' (after an optional system message, roles must alternate user/assistant,"
                        + " starting with user)");
            }
            if (pendingUser == null) {
                pendingUser = m.content();
            } else {
                exchanges.add(new Exchange(pendingUser, m.content()));
                pendingUser = null;
            }
        }
        if (pendingUser != null) {
            exchanges.add(new Exchange(pendingUser, null));
        }
        if (exchanges.isEmpty()) {
            throw new IllegalArgumentException("messages must contain at least one user message");
        }
        if (addGenerationPrompt && pendingUser == null) {
            throw new IllegalArgumentException("messages: the last message must be from the user when the assistant's"
                    + " reply is to be generated (it is from the assistant)");
        }
        return new ValidConversation(system, exchanges);
    }

    /** The exchanges before the last one: the history of a format that treats the last turn apart. */
    List<Exchange> history() {
        return exchanges.subList(0, exchanges.size() - 1);
    }

    Exchange last() {
        return exchanges.getLast();
    }
}
