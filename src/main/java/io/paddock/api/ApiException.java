package io.paddock.api;

import org.springframework.http.HttpStatus;

/** A request the API refuses, with the OpenAI error fields to send back. */
public class ApiException extends RuntimeException {
    private final HttpStatus status;
    private final String type;
    private final String param;
    private final String code;

    public ApiException(HttpStatus status, String message, String type, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400 invalid_request_error naming the parameter at fault. */
    public static ApiException badRequest(String param, String message) {
        return new ApiException(HttpStatus.BAD_REQUEST, message, "invalid_request_error", param, null);
    }

    public HttpStatus status() { return status; }
    public String type() { return type; }
    public String param() { return param; }
    public String code() { return code; }
}
