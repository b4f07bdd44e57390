package dev.fabric.core.signature;

import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Enforces the fabric's signature policy on an incoming request. A request passes when:
 * <ol>
 *   <li>it carries a well-formed RFC 9421 signature with {@code alg="ed25519"} (or no {@code alg});</li>
 *   <li>the signature covers {@code @method}, the target ({@code @target-uri}, or {@code @authority},
 *       {@code @path} and {@code @query}), and {@code content-digest} whenever there is a body, and has
 *       the parameters {@code created}, {@code nonce} and {@code keyid};</li>
 *   <li>{@code created} lies within the skew window of this clock (and {@code expires}, if given, is ahead);</li>
 *   <li>{@code keyid} names a trusted key, and the Ed25519 signature over the signature base is valid;</li>
 *   <li>the signed target's authority is one this process receives under ({@link ReceiverAuthorities});</li>
 *   <li>the body matches its {@code Content-Digest};</li>
 *   <li>the nonce has not been seen inside the window.</li>
 * </ol>
 * A server checks the header fields first ({@link #verifyHeaders}) and reads the body only when they
 * pass, so nobody without a fabric key can make it buffer or wait for a body.
 * Each failure is a {@link SignatureRejectedException} with its own {@link Rejection}.
 */
public final class SignatureVerifier {

    private static final int MAX_NONCE_LENGTH = 256;

    private final KeyResolver keys;
    private final VerificationPolicy policy;
    private final ReplayCache replayCache;
    private final Clock clock;
    private final ReceiverAuthorities authorities;

    /**
     * @param authorities the authorities this process receives requests under; a signed target naming
     *     any other is refused ({@link Rejection#WRONG_AUTHORITY})
     */
    public SignatureVerifier(KeyResolver keys, VerificationPolicy policy, ReplayCache replayCache, Clock clock,
                             ReceiverAuthorities authorities) {
        this.keys = keys;
        this.policy = policy;
        this.replayCache = replayCache;
        this.clock = clock;
        this.authorities = authorities;
    }

    /**
     * Verifies the request and its body (empty array when there is none).
     *
     * @throws SignatureRejectedException when the request does not pass
     */
    public VerifiedRequest verify(SignableRequest request, byte[] body) {
        return verifyHeaders(request, body.length > 0).verifyBody(body);
    }

    /**
     * Verifies everything a request's header fields can show, before its body is read: the
     * signature's form and coverage, its time, its key, the signature itself and the receiver's
     * authority. A server reads the body only for a request that passes, then finishes with
     * {@link SignedHeaders#verifyBody(byte[])}. Nothing is remembered here: the nonce is spent only
     * once the body matches its digest, so a copy with an altered body cannot use up the genuine
     * request's nonce.
     *
     * @param bodyAnnounced whether the request says a body follows ({@code Content-Length} above zero, or chunked)
     * @throws SignatureRejectedException when the request does not pass
     */
    public SignedHeaders verifyHeaders(SignableRequest request, boolean bodyAnnounced) {
        HttpMessageSignatures.FoundSignature found = HttpMessageSignatures.find(request, policy.label(), policy.maxFieldBytes());

        Object alg = found.parameter("alg");
        if (alg != null && !HttpMessageSignatures.ALGORITHM.equals(alg)) {
            throw new SignatureRejectedException(Rejection.UNSUPPORTED_ALGORITHM,
                    "alg " + render(alg) + " is not supported; the fabric signs with \"ed25519\"");
        }
        List<String> covered = new ArrayList<>();
        found.input().items().forEach(item -> covered.add((String) item.value()));
        requireCoverage(covered, bodyAnnounced || request.headers().containsKey(ContentDigest.FIELD));

        Instant created = requireInstant(found, "created");
        Object nonceValue = found.parameter("nonce");
        if (!(nonceValue instanceof String nonce) || nonce.isEmpty() || nonce.length() > MAX_NONCE_LENGTH) {
            throw new SignatureRejectedException(Rejection.INCOMPLETE,
                    "the signature needs a nonce parameter: a string of 1 to " + MAX_NONCE_LENGTH + " characters");
        }
        if (!(found.parameter("keyid") instanceof String keyId) || keyId.isEmpty()) {
            throw new SignatureRejectedException(Rejection.INCOMPLETE, "the signature needs a keyid parameter (a string)");
        }

        Instant now = clock.instant();
        Duration skew = policy.skew();
        Duration offset = Duration.between(created, now);
        if (offset.abs().compareTo(skew) > 0) {
            throw new SignatureRejectedException(Rejection.EXPIRED, "the signature was created " + describe(offset)
                    + "; the window is " + skew.toSeconds() + " s either way (check the clocks)");
        }
        if (found.parameter("expires") != null && !requireInstant(found, "expires").isAfter(now)) {
            throw new SignatureRejectedException(Rejection.EXPIRED, "the signature's expires time has passed");
        }

        PublicKey key = keys.resolve(keyId).orElseThrow(() -> new SignatureRejectedException(Rejection.UNKNOWN_KEY,
                "keyid '" + abbreviate(keyId) + "' is not a key this service trusts"));
        String base = HttpMessageSignatures.signatureBase(request, found.input());
        if (!HttpMessageSignatures.verify(key, base, found.signature())) {
            throw new SignatureRejectedException(Rejection.BAD_SIGNATURE,
                    "the signature '" + found.label() + "' does not verify: the request differs from what was signed");
        }
        if (!authorities.accepts(request.target())) {
            throw new SignatureRejectedException(Rejection.WRONG_AUTHORITY, "the request was signed for "
                    + abbreviate(request.target().getRawAuthority()) + ", which is not an authority of this receiver");
        }
        return new SignedHeaders(request, keyId, found.label(), created, nonce, List.copyOf(covered));
    }

    /**
     * A request whose header fields passed {@link #verifyHeaders}; its body is still to be checked
     * against the {@code Content-Digest}, and its nonce still to be spent.
     */
    public final class SignedHeaders {

        private final SignableRequest request;
        private final String keyId;
        private final String label;
        private final Instant created;
        private final String nonce;
        private final List<String> covered;

        private SignedHeaders(SignableRequest request, String keyId, String label, Instant created, String nonce,
                              List<String> covered) {
            this.request = request;
            this.keyId = keyId;
            this.label = label;
            this.created = created;
            this.nonce = nonce;
            this.covered = covered;
        }

        /**
         * Checks the body (empty array when there is none) against the signed digest, then spends the nonce.
         *
         * @throws SignatureRejectedException when the body does not match or the nonce was already used
         */
        public VerifiedRequest verifyBody(byte[] body) {
            if (body.length > 0) {
                requireCoverage(covered, true);
            }
            if (covered.contains(ContentDigest.FIELD)) {
                ContentDigest.verify(request.field(ContentDigest.FIELD).orElseThrow(), body);
            }
            if (!replayCache.firstUse(keyId, nonce, created.plus(policy.skew()))) {
                throw new SignatureRejectedException(Rejection.REPLAYED, "the nonce of this signature was already used");
            }
            return new VerifiedRequest(keyId, label, created, nonce, covered);
        }
    }

    private static void requireCoverage(List<String> covered, boolean hasBody) {
        List<String> missing = new ArrayList<>();
        if (!covered.contains("@method")) {
            missing.add("@method");
        }
        boolean target = covered.contains("@target-uri")
                || (covered.contains("@authority") && covered.contains("@path") && covered.contains("@query"));
        if (!target) {
            missing.add("@target-uri (or @authority, @path and @query)");
        }
        if (hasBody && !covered.contains(ContentDigest.FIELD)) {
            missing.add("content-digest");
        }
        if (!missing.isEmpty()) {
            throw new SignatureRejectedException(Rejection.INCOMPLETE, "the signature does not cover " + String.join(", ", missing));
        }
    }

    private static Instant requireInstant(HttpMessageSignatures.FoundSignature found, String name) {
        if (!(found.parameter(name) instanceof Long seconds)) {
            throw new SignatureRejectedException(Rejection.INCOMPLETE, "the signature needs a " + name + " parameter (an integer, seconds since the epoch)");
        }
        return Instant.ofEpochSecond(seconds);
    }

    private static String describe(Duration offset) {
        long seconds = offset.toSeconds();
        return seconds >= 0 ? seconds + " s ago" : -seconds + " s in the future";
    }

    private static String render(Object value) {
        return value instanceof String s ? "\"" + abbreviate(s) + "\"" : abbreviate(String.valueOf(value));
    }

    private static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
