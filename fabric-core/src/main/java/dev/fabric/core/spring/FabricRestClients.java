package dev.fabric.core.spring;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.web.client.RestClient;

import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;

/**
 * The HTTP clients fabric members use to call each other: the JDK client over HTTP/1.1 (the
 * services speak it, and it keeps signature headers simple), a connect timeout, a read timeout
 * that bounds the whole answer, and, for signed calls, the fabric signature on every request.
 */
public final class FabricRestClients {

    private FabricRestClients() {}

    /**
     * A request factory: {@code readTimeout} bounds the whole exchange, body included, so a stream
     * that lives as long as its reader wants (a watch) passes {@code null} for none.
     */
    public static JdkClientHttpRequestFactory requestFactory(Duration connectTimeout, Duration readTimeout) {
        return requestFactory(connectTimeout, readTimeout, null);
    }

    /**
     * A request factory that sends every request through {@code relay}, a bridge member's relay port,
     * as to an HTTP proxy (absolute-form targets, docs/connectivity.md); {@code null} for direct calls.
     * The request's target, and so its signature, stays the destination's own URL.
     */
    public static JdkClientHttpRequestFactory requestFactory(Duration connectTimeout, Duration readTimeout, InetSocketAddress relay) {
        HttpClient.Builder builder = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout);
        if (relay != null) {
            builder.proxy(ProxySelector.of(relay));
        }
        HttpClient http = builder.build();
        JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory(http);
        if (readTimeout != null) {
            factory.setReadTimeout(readTimeout);
        }
        return factory;
    }

    /**
     * A short, human cause of a failed call: the JDK's own messages of a failed connection are
     * often empty ("connection refused", "connection timed out", "no answer in time", "unknown host",
     * else the deepest cause's message).
     */
    public static String describeFailure(Throwable failure) {
        Throwable deepest = failure;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof java.net.http.HttpConnectTimeoutException) {
                return "connection timed out";
            }
            if (t instanceof java.net.http.HttpTimeoutException) {
                return "no answer in time";
            }
            if (t instanceof java.net.ConnectException) {
                return "connection refused";
            }
            if (t instanceof java.nio.channels.UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
                return "unknown host";
            }
            deepest = t;
        }
        String message = deepest.getMessage();
        return message == null || message.isBlank() ? deepest.getClass().getSimpleName() : message;
    }

    /** A client builder whose every request is signed with the fabric key. */
    public static RestClient.Builder signed(FabricKeys keys, Duration connectTimeout, Duration readTimeout) {
        return signed(keys, connectTimeout, readTimeout, null);
    }

    /** {@link #signed(FabricKeys, Duration, Duration)} through a bridge's relay port ({@code null}: direct). */
    public static RestClient.Builder signed(FabricKeys keys, Duration connectTimeout, Duration readTimeout, InetSocketAddress relay) {
        return RestClient.builder()
                .requestFactory(requestFactory(connectTimeout, readTimeout, relay))
                .requestInterceptor(new FabricSigningInterceptor(new RequestSigner(keys, Clock.systemUTC())));
    }
}
