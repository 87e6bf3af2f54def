package io.paddock.security;

import java.util.List;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.AuthorityUtils;

/**
 * The two states of a bearer key in Spring Security: presented (only its SHA-256 is kept: the plain key is dropped
 * as soon as the header is read) and authenticated (the configured key it matched). Neither prints a secret.
 */
abstract sealed class ApiKeyAuthentication extends AbstractAuthenticationToken {
    private ApiKeyAuthentication(boolean authenticated) {
        super(authenticated ? AuthorityUtils.createAuthorityList("ROLE_API") : List.of());
        super.setAuthenticated(authenticated);
    }

    @Override
    public Object getCredentials() { return null; }

    /** A key read from {@code Authorization: Bearer ...}, not yet checked. */
    static final class Presented extends ApiKeyAuthentication {
        private final byte[] sha256;

        Presented(String key) {
            super(false);
            this.sha256 = ApiKey.sha256(key);
        }

        byte[] sha256() { return sha256.clone(); }

        @Override
        public Object getPrincipal() { return null; }

        @Override
        public String toString() { return "ApiKeyAuthentication.Presented[unchecked]"; }
    }

    /** A request authenticated by one of the configured keys. */
    static final class Authenticated extends ApiKeyAuthentication {
        private final ApiKey key;

        Authenticated(ApiKey key) {
            super(true);
            this.key = key;
        }

        ApiKey key() { return key; }

        @Override
        public Object getPrincipal() { return key.name(); }

        @Override
        public String getName() { return key.name(); }

        @Override
        public String toString() { return "ApiKeyAuthentication.Authenticated[" + key.name() + "]"; }
    }
}
