package dev.fabric.core.spring;

import dev.fabric.core.signature.SignableRequest;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.AuthorityUtils;

/** A request still to be verified: what the filter hands to {@link SignatureAuthenticationProvider}. */
public final class SignedRequestToken extends AbstractAuthenticationToken {

    private final transient SignableRequest request;
    private final transient byte[] body;

    public SignedRequestToken(SignableRequest request, byte[] body) {
        super(AuthorityUtils.NO_AUTHORITIES);
        this.request = request;
        this.body = body;
        setAuthenticated(false);
    }

    public SignableRequest request() {
        return request;
    }

    public byte[] body() {
        return body;
    }

    @Override
    public Object getCredentials() {
        return "";
    }

    @Override
    public Object getPrincipal() {
        return request.method() + " " + request.target().getRawPath();
    }
}
