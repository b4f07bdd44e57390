package dev.fabric.core.otp;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The spawner's book of one-time passwords, one outstanding per service id.
 *
 * <p>A password is issued with a time to live, kept only as its SHA-256 hash, and redeemed at most
 * once: a second redemption, an expired one, a wrong password, or a password presented for another
 * service id is refused. A failed attempt burns the service's password, so guessing gets one try.
 * The comparison runs in constant time. Neither the password nor its hash is ever logged.
 */
public final class OneTimePasswords {

    private static final Logger log = LoggerFactory.getLogger(OneTimePasswords.class);
    private static final int BITS = 256;

    private record Entry(byte[] hash, Instant expiresAt, boolean redeemed) {}

    private final Clock clock;
    private final SecureRandom random;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    public OneTimePasswords(Clock clock) {
        this(clock, new SecureRandom());
    }

    public OneTimePasswords(Clock clock, SecureRandom random) {
        this.clock = clock;
        this.random = random;
    }

    /** Issues a fresh password for the service, replacing any it had. */
    public OneTimePassword issue(String serviceId, Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("a one-time password needs a positive time to live, was " + ttl);
        }
        byte[] secret = new byte[BITS / 8];
        random.nextBytes(secret);
        String value = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        Instant expiresAt = clock.instant().plus(ttl);
        entries.put(serviceId, new Entry(hash(value), expiresAt, false));
        log.debug("issued a one-time password for service {} (expires {})", serviceId, expiresAt);
        return new OneTimePassword(value);
    }

    /**
     * Redeems the password presented for a service id.
     *
     * @throws OtpRejectedException when it is unknown, wrong, expired or already used
     */
    public void redeem(String serviceId, String presented) {
        Instant now = clock.instant();
        byte[] presentedHash = hash(presented == null ? "" : presented);
        Entry[] outcome = new Entry[1];
        entries.compute(serviceId, (id, entry) -> {
            outcome[0] = entry;
            if (entry == null) {
                return null;
            }
            if (entry.redeemed()) {
                return now.isAfter(entry.expiresAt()) ? null : entry;
            }
            // Any attempt, good or bad, uses the password up.
            return now.isAfter(entry.expiresAt()) ? null : new Entry(entry.hash(), entry.expiresAt(), true);
        });
        Entry entry = outcome[0];
        if (entry == null) {
            throw reject(OtpRejectedException.Reason.UNKNOWN, serviceId, "no one-time password is outstanding for service " + serviceId);
        }
        boolean matches = MessageDigest.isEqual(entry.hash(), presentedHash);
        if (entry.redeemed()) {
            throw reject(OtpRejectedException.Reason.USED, serviceId, "the one-time password of service " + serviceId + " was already used");
        }
        if (now.isAfter(entry.expiresAt())) {
            throw reject(OtpRejectedException.Reason.EXPIRED, serviceId, "the one-time password of service " + serviceId
                    + " expired at " + entry.expiresAt());
        }
        if (!matches) {
            throw reject(OtpRejectedException.Reason.WRONG, serviceId, "the one-time password presented for service " + serviceId
                    + " is wrong; it is now discarded");
        }
        log.debug("redeemed the one-time password of service {}", serviceId);
    }

    /** Discards the service's password, redeemed or not (the spawner does this when a bootstrap fails). */
    public void discard(String serviceId) {
        if (entries.remove(serviceId) != null) {
            log.debug("discarded the one-time password of service {}", serviceId);
        }
    }

    /** Forgets every password whose time to live has passed. */
    public void sweep() {
        Instant now = clock.instant();
        entries.values().removeIf(entry -> now.isAfter(entry.expiresAt()));
    }

    /** Whether a password that can still be redeemed exists for the service. */
    public boolean isOutstanding(String serviceId) {
        Entry entry = entries.get(serviceId);
        return entry != null && !entry.redeemed() && !clock.instant().isAfter(entry.expiresAt());
    }

    private static OtpRejectedException reject(OtpRejectedException.Reason reason, String serviceId, String message) {
        log.info("refused a one-time password: {}", message);
        return new OtpRejectedException(reason, serviceId, message);
    }

    private static byte[] hash(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
