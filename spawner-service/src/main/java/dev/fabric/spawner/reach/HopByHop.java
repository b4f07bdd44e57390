package dev.fabric.spawner.reach;

import java.util.Locale;
import java.util.Set;

/**
 * Header fields that belong to one connection, not to the message (RFC 9110 section 7.6.1), and
 * those the HTTP client sets itself: a relay drops them and passes every other field unchanged
 * (the signature's own fields among them).
 */
public final class HopByHop {

    private static final Set<String> FIELDS = Set.of("connection", "keep-alive", "proxy-connection", "proxy-authorization",
            "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect");

    private HopByHop() {}

    public static boolean dropped(String name) {
        return FIELDS.contains(name.toLowerCase(Locale.ROOT));
    }
}
