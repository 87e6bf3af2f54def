package io.paddock.config;

/** A LoRA adapter configured to be served from start-up ({@code paddock.lora.adapters}, {@code --lora}) was refused. */
public class AdapterStartException extends RuntimeException {
    AdapterStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
