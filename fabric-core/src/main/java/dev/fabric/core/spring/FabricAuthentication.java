package dev.fabric.core.spring;

import dev.fabric.core.signature.VerifiedRequest;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.AuthorityUtils;

/** A request signed with a trusted fabric key; the principal is the key id. */
public final class FabricAuthentication extends AbstractAuthenticationToken {

    /** The authority every verified fabric request holds. */
    public static final String FABRIC_MEMBER = "ROLE_FABRIC_MEMBER";

    private final VerifiedRequest verified;

    public FabricAuthentication(VerifiedRequest verified) {
        super(AuthorityUtils.createAuthorityList(FABRIC_MEMBER));
        this.verified = verified;
        setAuthenticated(true);
    }

    public VerifiedRequest verified() {
        return verified;
    }

    @Override
    public Object getCredentials() {
        return "";
    }

    @Override
    public Object getPrincipal() {
        return verified.keyId();
    }
}
