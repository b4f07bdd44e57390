package dev.fabric.core.spring;

import dev.fabric.core.signature.Rejection;
import dev.fabric.core.signature.SignatureRejectedException;
import org.springframework.security.core.AuthenticationException;

/** Spring Security's view of a {@link SignatureRejectedException}. */
public final class SignatureAuthenticationException extends AuthenticationException {

    private final Rejection rejection;

    public SignatureAuthenticationException(SignatureRejectedException cause) {
        super(cause.getMessage(), cause);
        this.rejection = cause.rejection();
    }

    public SignatureAuthenticationException(Rejection rejection, String detail) {
        super(detail);
        this.rejection = rejection;
    }

    public Rejection rejection() {
        return rejection;
    }
}
