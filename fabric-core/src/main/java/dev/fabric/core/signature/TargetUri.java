package dev.fabric.core.signature;

import java.net.URI;
import java.util.Locale;

/**
 * The derived components of RFC 9421 section 2.2 that come from the target URI, computed the same way
 * on the signing and the verifying side: scheme and host in lower case, a default port left out,
 * the path and query kept as they travel (percent-encoded).
 */
final class TargetUri {

    private TargetUri() {}

    static String targetUri(URI uri) {
        String query = uri.getRawQuery();
        return scheme(uri) + "://" + authority(uri) + path(uri) + (query == null ? "" : "?" + query);
    }

    static String scheme(URI uri) {
        String scheme = uri.getScheme();
        if (scheme == null) {
            throw new IllegalArgumentException("the target URI has no scheme");
        }
        return scheme.toLowerCase(Locale.ROOT);
    }

    static String authority(URI uri) {
        String host = uri.getHost();
        if (host == null) {
            throw new IllegalArgumentException("the target URI has no host");
        }
        host = host.toLowerCase(Locale.ROOT);
        int port = uri.getPort();
        boolean defaultPort = port == -1
                || ("http".equals(scheme(uri)) && port == 80)
                || ("https".equals(scheme(uri)) && port == 443);
        return defaultPort ? host : host + ":" + port;
    }

    static String path(URI uri) {
        String path = uri.getRawPath();
        return path == null || path.isEmpty() ? "/" : path;
    }

    static String query(URI uri) {
        String query = uri.getRawQuery();
        return "?" + (query == null ? "" : query);
    }

    static String requestTarget(URI uri) {
        String query = uri.getRawQuery();
        return path(uri) + (query == null ? "" : "?" + query);
    }
}
