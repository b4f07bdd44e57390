package dev.fabric.core.signature;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The authorities ({@code host:port}) under which this process receives requests. A signature
 * covers the target's authority; the verifier accepts it only when that authority is one of these,
 * so a request signed for one member cannot be replayed to another that serves the same path.
 *
 * <p>An entry is {@code host:port}, {@code host:*} (any port), or a bare {@code host}, which means
 * the host on any port this process listens on. Hosts compare without case; an IPv6 host is written
 * in brackets ({@code [::1]:8470}). The entry {@code *} accepts every authority and switches the
 * check off (for a verifier that cannot know its receiver). Entries come from configuration and
 * from what the process discovers about itself (its bound addresses and ports, its advertised
 * host); they may be added while the process runs, as ports become known.
 */
public final class ReceiverAuthorities {

    private static final String ANY_PORT = "*";

    private final Set<String> exact = ConcurrentHashMap.newKeySet();
    private final Set<String> anyPortHosts = ConcurrentHashMap.newKeySet();
    private final Set<String> ownPortHosts = ConcurrentHashMap.newKeySet();
    private final Set<Integer> ownPorts = ConcurrentHashMap.newKeySet();
    private volatile boolean any;

    private ReceiverAuthorities() {}

    /** Authorities from configured entries (see the class comment for their forms). */
    public static ReceiverAuthorities of(Collection<String> entries) {
        ReceiverAuthorities authorities = new ReceiverAuthorities();
        entries.forEach(authorities::add);
        return authorities;
    }

    /** Accepts every authority: for verifiers that do not know their receiver, never for a fabric service. */
    public static ReceiverAuthorities any() {
        return of(Set.of("*"));
    }

    /**
     * Adds one entry: {@code host:port}, {@code host:*}, {@code host}, or {@code *}.
     *
     * @throws IllegalArgumentException when the entry is blank or its port is not a number
     */
    public ReceiverAuthorities add(String entry) {
        String value = entry.strip().toLowerCase(Locale.ROOT);
        if (value.isEmpty()) {
            throw new IllegalArgumentException("a receiver authority may not be blank");
        }
        if (value.equals("*")) {
            any = true;
            return this;
        }
        int colon = value.lastIndexOf(':');
        boolean hasPort = colon > 0 && value.indexOf(']', colon) < 0 && (value.startsWith("[") || value.indexOf(':') == colon);
        if (!hasPort) {
            ownPortHosts.add(host(value.contains(":") && !value.startsWith("[") ? "[" + value + "]" : value));
            return this;
        }
        String host = host(value.substring(0, colon));
        String port = value.substring(colon + 1);
        if (port.equals(ANY_PORT)) {
            anyPortHosts.add(host);
        } else {
            exact.add(host + ":" + parsePort(port, entry));
        }
        return this;
    }

    /** Adds a port this process listens on: every bare host entry accepts it. */
    public ReceiverAuthorities addOwnPort(int port) {
        ownPorts.add(port);
        return this;
    }

    /** Whether a request whose target is {@code target} was meant for this process. */
    public boolean accepts(URI target) {
        if (any) {
            return true;
        }
        String host = target.getHost();
        if (host == null) {
            return false;
        }
        host = host(host.toLowerCase(Locale.ROOT));
        int port = port(target);
        return exact.contains(host + ":" + port) || anyPortHosts.contains(host)
                || (ownPortHosts.contains(host) && ownPorts.contains(port));
    }

    @Override
    public String toString() {
        if (any) {
            return "ReceiverAuthorities[*]";
        }
        return "ReceiverAuthorities[" + exact + ", " + anyPortHosts.stream().map(h -> h + ":*").toList()
                + ", " + ownPortHosts + " on " + ownPorts + "]";
    }

    /** An IPv6 literal in one spelling ({@code [::1]} and {@code [0:0:0:0:0:0:0:1]} are one host); other hosts as given. */
    private static String host(String host) {
        if (!host.startsWith("[") || !host.endsWith("]")) {
            return host;
        }
        String literal = host.substring(1, host.length() - 1);
        int zone = literal.indexOf('%');
        if (zone >= 0) {
            literal = literal.substring(0, zone);
        }
        try {
            // A literal (only hex digits, dots and colons here) is parsed, never looked up.
            if (literal.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
                return "[" + InetAddress.getByName(literal).getHostAddress() + "]";
            }
        } catch (UnknownHostException e) {
            // Not an address after all: compare it as written.
        }
        return host;
    }

    private static int port(URI target) {
        if (target.getPort() != -1) {
            return target.getPort();
        }
        return "https".equalsIgnoreCase(target.getScheme()) ? 443 : 80;
    }

    private static int parsePort(String port, String entry) {
        try {
            int value = Integer.parseInt(port);
            if (value < 1 || value > 65535) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the receiver authority '" + entry
                    + "' has no valid port: write host:port (1 to 65535), host:* or host");
        }
    }
}
