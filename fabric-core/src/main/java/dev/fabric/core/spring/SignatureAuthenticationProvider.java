package dev.fabric.core.spring;

import dev.fabric.core.signature.SignatureRejectedException;
import dev.fabric.core.signature.SignatureVerifier;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;

/** Verifies a {@link SignedRequestToken} with the fabric's {@link SignatureVerifier}. */
public final class SignatureAuthenticationProvider implements AuthenticationProvider {

    private final SignatureVerifier verifier;

    public SignatureAuthenticationProvider(SignatureVerifier verifier) {
        this.verifier = verifier;
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        SignedRequestToken token = (SignedRequestToken) authentication;
        try {
            return new FabricAuthentication(verifier.verify(token.request(), token.body()));
        } catch (SignatureRejectedException e) {
            throw new SignatureAuthenticationException(e);
        }
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return SignedRequestToken.class.isAssignableFrom(authentication);
    }
}
