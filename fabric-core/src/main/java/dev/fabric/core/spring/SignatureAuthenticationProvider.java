package dev.fabric.core.spring;

import dev.fabric.core.signature.Rejection;
import dev.fabric.core.signature.SignatureRejectedException;
import dev.fabric.core.signature.SignatureVerifier;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Verifies a {@link SignedRequestToken} with the fabric's {@link SignatureVerifier}: the header
 * fields first, then (only if they pass) the body against its digest.
 */
public final class SignatureAuthenticationProvider implements AuthenticationProvider {

    private final SignatureVerifier verifier;

    public SignatureAuthenticationProvider(SignatureVerifier verifier) {
        this.verifier = verifier;
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        SignedRequestToken token = (SignedRequestToken) authentication;
        try {
            SignatureVerifier.SignedHeaders headers = verifier.verifyHeaders(token.request(), token.bodyAnnounced());
            return new FabricAuthentication(headers.verifyBody(token.body().read()));
        } catch (SignatureRejectedException e) {
            throw new SignatureAuthenticationException(e);
        } catch (CachedBodyRequest.TooLargeException e) {
            throw new SignatureAuthenticationException(new SignatureRejectedException(Rejection.BODY_TOO_LARGE,
                    e.getMessage() + "; send a smaller body"));
        } catch (IOException e) {
            throw new UncheckedIOException("the request body could not be read: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return SignedRequestToken.class.isAssignableFrom(authentication);
    }
}
