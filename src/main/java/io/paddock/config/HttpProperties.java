package io.paddock.config;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * {@code paddock.http.*}: limits of the HTTP edge (see docs/http.md). The request line and header limits are Spring
 * Boot's own {@code server.netty.max-initial-line-length} and {@code server.max-http-request-header-size}.
 *
 * @param maxBodyBytes the largest request body accepted; larger ones are answered 413 before or while they are read
 *                     (a plain number is bytes; 4MB, 512KB also work)
 */
@ConfigurationProperties("paddock.http")
public record HttpProperties(@DefaultValue("4MB") DataSize maxBodyBytes) {
    public HttpProperties {
        if (maxBodyBytes.toBytes() <= 0 || maxBodyBytes.toBytes() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("paddock.http.max-body-bytes must be between 1 byte and 2GB, got "
                    + maxBodyBytes);
        }
    }
}
