package io.paddock.lora;

/** A LoRA adapter that cannot be read or does not fit its base model; the message names the file and the field. */
public final class AdapterLoadException extends RuntimeException {
    public AdapterLoadException(String message) {
        super(message);
    }

    public AdapterLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
