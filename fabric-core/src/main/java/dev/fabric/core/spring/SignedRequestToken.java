package dev.fabric.core.spring;

import dev.fabric.core.signature.SignableRequest;
import dev.fabric.core.signature.SignatureRejectedException;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.AuthorityUtils;

import java.io.IOException;

/**
 * A request still to be verified: what the filter hands to {@link SignatureAuthenticationProvider}.
 * The body is not read yet; the provider reads it through {@link Body} only once the header fields
 * passed.
 */
public final class SignedRequestToken extends AbstractAuthenticationToken {

    /** Reads the request body, at most once, bounded by the verifier's limit. */
    @FunctionalInterface
    public interface Body {
        /**
         * @throws SignatureRejectedException ({@code body-too-large}) when the body exceeds the limit
         * @throws IOException when the body cannot be read
         */
        byte[] read() throws IOException;
    }

    private final transient SignableRequest request;
    private final boolean bodyAnnounced;
    private final transient Body body;

    public SignedRequestToken(SignableRequest request, boolean bodyAnnounced, Body body) {
        super(AuthorityUtils.NO_AUTHORITIES);
        this.request = request;
        this.bodyAnnounced = bodyAnnounced;
        this.body = body;
        setAuthenticated(false);
    }

    /** A request whose body is already at hand (tests, tools). */
    public SignedRequestToken(SignableRequest request, byte[] body) {
        this(request, body.length > 0, () -> body);
    }

    public SignableRequest request() {
        return request;
    }

    public boolean bodyAnnounced() {
        return bodyAnnounced;
    }

    public Body body() {
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
