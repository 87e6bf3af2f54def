package io.paddock.tokenizer;

/** A tokenizer file is missing, unreadable, corrupt or uses a feature this package does not implement. */
public class TokenizerLoadException extends RuntimeException {

    public TokenizerLoadException(String message) {
        super(message);
    }

    public TokenizerLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
