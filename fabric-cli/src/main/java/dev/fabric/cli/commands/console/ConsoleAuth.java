package dev.fabric.cli.commands.console;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Who may use a console, decided apart from HTTP: the one-time login token printed by this run of
 * {@code fabric console}, the sessions it opens (a cookie the page cannot read), and the per-session
 * header that every action must carry.
 *
 * <p>The token lives in this object only: a token printed by an older run (or another console) is
 * unknown here and refused, and the token is spent by its first use. A session id and its action
 * header are each 256 random bits, compared in constant time. Nothing here is ever logged.
 */
final class ConsoleAuth {

    /** The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it). */
    static final String COOKIE = "fabric_console";
    /** The header every action carries: the page reads its value from {@code GET /api/session}, which no other origin can read. */
    static final String ACTION_HEADER = "X-Fabric-Console";

    private static final SecureRandom RANDOM = new SecureRandom();

    /** The login token until it is spent; then null. */
    private final AtomicReference<String> loginToken = new AtomicReference<>(random());
    /** Session id to the value its actions must carry in {@link #ACTION_HEADER}. */
    private final Map<String, String> sessions = new ConcurrentHashMap<>();

    /** What a login attempt gives: a session, or nothing (a token that is not this run's, or already spent). */
    record Session(String id, String actionToken) {}

    /** The token to print; null once it has been spent. */
    String loginToken() {
        return loginToken.get();
    }

    /** Spends the login token: the first request with it gets a session, any later one (or any other token) nothing. */
    Optional<Session> login(String token) {
        String expected = loginToken.get();
        if (token == null || expected == null || !equal(token, expected) || !loginToken.compareAndSet(expected, null)) {
            return Optional.empty();
        }
        Session session = new Session(random(), random());
        sessions.put(session.id(), session.actionToken());
        return Optional.of(session);
    }

    /** The session a request's Cookie fields name, if it is one of this run's. */
    Optional<Session> session(List<String> cookieFields) {
        if (cookieFields == null) {
            return Optional.empty();
        }
        for (String field : cookieFields) {
            for (String pair : field.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).strip().equals(COOKIE)) {
                    String id = pair.substring(eq + 1).strip();
                    for (Map.Entry<String, String> known : sessions.entrySet()) {
                        if (equal(id, known.getKey())) {
                            return Optional.of(new Session(known.getKey(), known.getValue()));
                        }
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** The Set-Cookie value that opens a session on the page. */
    static String cookie(Session session) {
        return COOKIE + "=" + session.id() + "; Path=/; HttpOnly; SameSite=Strict";
    }

    /**
     * Whether a request that changes something may: it carries the session's action header, and an
     * {@code Origin} (browsers send one with every POST) that is this console's own.
     *
     * @param origin the request's Origin field, or null
     * @param host the request's Host field (already checked by {@link #hostAllowed})
     */
    static boolean actionAllowed(Session session, String actionHeader, String origin, String host) {
        if (actionHeader == null || !equal(actionHeader, session.actionToken())) {
            return false;
        }
        return origin == null || sameOrigin(origin, host);
    }

    /**
     * Whether a request's Host names this console: a loopback name with its port, or the address it
     * was told to bind. Refusing other names stops a page of another site that points its own host
     * name at 127.0.0.1 (DNS rebinding) from talking to the console as "same origin".
     */
    static boolean hostAllowed(String host, String boundAddress, int port) {
        if (host == null) {
            return false;
        }
        String h = host.strip().toLowerCase(java.util.Locale.ROOT);
        String suffix = ":" + port;
        if (!h.endsWith(suffix)) {
            return false;
        }
        String name = h.substring(0, h.length() - suffix.length());
        return name.equals("127.0.0.1") || name.equals("localhost") || name.equals("[::1]")
                || name.equals(boundAddress.toLowerCase(java.util.Locale.ROOT))
                || name.equals("[" + boundAddress.toLowerCase(java.util.Locale.ROOT) + "]");
    }

    private static boolean sameOrigin(String origin, String host) {
        try {
            URI uri = URI.create(origin.strip());
            return "http".equals(uri.getScheme()) && uri.getRawAuthority() != null
                    && uri.getRawAuthority().equalsIgnoreCase(host.strip()) && (uri.getRawPath() == null || uri.getRawPath().isEmpty());
        } catch (IllegalArgumentException notAUri) {
            return false;
        }
    }

    private static boolean equal(String given, String expected) {
        return MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
    }

    private static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
