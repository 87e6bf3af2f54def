package io.paddock.format;

/**
 * A model directory or weight file that cannot be loaded. The message is meant for an operator: it names
 * the file and, where there is one, the tensor or config field at fault, so that one line in a log is enough
 * to fix the directory.
 */
public final class ModelLoadException extends RuntimeException {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
