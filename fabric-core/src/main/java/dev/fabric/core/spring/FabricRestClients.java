package dev.fabric.core.spring;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.HttpComponentsClientHttpRequestFactory;
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
 * {@link #pooled} is the one for a {@code FabricClient}'s direct calls (a task's lease, publish,
 * submission, the finals feed): Apache HttpClient's classic client, which makes the exchange on the
 * caller's own thread, where the JDK client hands each request to its selector thread and each answer
 * back through a worker thread (about 0.6 against 0.25 ms a small request here, docs/benchmarks.md run 8).
 *
 * <p>Every {@code RestClient} in the fabric, its tests and its users' code starts here ({@link #signed},
 * {@link #signedPooled}, or {@link #plain} for an unsigned one or one with interceptors of its own):
 * none of these sends a request twice by itself. A signature is good once (its nonce), so a request
 * sent again is refused as {@code replayed} and hides the first answer; and a
 * {@code RestClient.builder()} left to choose its request factory takes Apache HttpClient (fabric-core
 * brings it for {@link #pooled}) with its default retries, which send a GET answered 503 or 429 again.
 */
public final class FabricRestClients {

    private static final Logger log = LoggerFactory.getLogger(FabricRestClients.class);

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
        return requestFactory(httpClient(connectTimeout, relay), readTimeout);
    }

    /**
     * The JDK client under {@link #requestFactory}: HTTP/1.1, {@code connectTimeout}, through
     * {@code relay} when not {@code null}. For a caller that releases what it made
     * ({@link HttpClient#shutdownNow()}): its selector thread, its workers and its connections.
     */
    public static HttpClient httpClient(Duration connectTimeout, InetSocketAddress relay) {
        HttpClient.Builder builder = jdkClientBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout);
        if (relay != null) {
            builder.proxy(ProxySelector.of(relay));
        }
        return builder.build();
    }

    /**
     * {@link HttpClient#newBuilder()} with the JVM's default TLS context made at the first TLS
     * connection, not when the client is built (a plain-HTTP fabric never makes it): every JDK client
     * of the fabric starts here. TLS connections behave as the default builder's over HTTP/1.1 and
     * WebSocket, which is all the fabric speaks: the builder's TLS parameters name no protocol
     * versions (naming them would make the context), so an HTTP/2 client would not offer {@code h2}
     * over TLS and would speak HTTP/1.1 there.
     */
    public static HttpClient.Builder jdkClientBuilder() {
        return jdkClientBuilder(LazyDefaultTls.jvmDefault());
    }

    static HttpClient.Builder jdkClientBuilder(LazyDefaultTls tls) {
        return HttpClient.newBuilder().sslContext(tls.context()).sslParameters(tls.parameters());
    }

    /** {@link #requestFactory(Duration, Duration, InetSocketAddress)} over a JDK client of the caller's, which stays the caller's to release. */
    public static JdkClientHttpRequestFactory requestFactory(HttpClient http, Duration readTimeout) {
        JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory(http);
        if (readTimeout != null) {
            factory.setReadTimeout(readTimeout);
        }
        return factory;
    }

    /**
     * A request factory that makes each exchange on the calling thread, over pooled HTTP/1.1
     * keep-alive connections (Apache HttpClient 5, classic). {@code readTimeout} bounds each wait for
     * the answer's next bytes (for a long poll, the wait for its answer), not the whole answer as
     * {@link #requestFactory} does, so it is for calls whose answers are short, not for streams. No
     * retries, redirects, cookies or content compression, as the JDK client: a call that fails is
     * the caller's to handle. A pooled connection idle for a second is checked before it is used
     * again (the member may have closed it, or restarted). Its TLS strategy is the pool's default, made
     * at the first TLS connection ({@link #jdkClientBuilder}).
     */
    public static HttpComponentsClientHttpRequestFactory pooled(Duration connectTimeout, Duration readTimeout) {
        return pooled(connectTimeout, readTimeout, LazyDefaultTls.jvmDefault());
    }

    static HttpComponentsClientHttpRequestFactory pooled(Duration connectTimeout, Duration readTimeout, LazyDefaultTls tls) {
        ConnectionConfig.Builder connections = ConnectionConfig.custom()
                .setConnectTimeout(Timeout.of(connectTimeout))
                .setValidateAfterInactivity(TimeValue.ofSeconds(1));
        RequestConfig.Builder requests = RequestConfig.custom().setRedirectsEnabled(false);
        if (readTimeout != null) {
            connections.setSocketTimeout(Timeout.of(readTimeout));
            requests.setResponseTimeout(Timeout.of(readTimeout));
        }
        var client = HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setTlsSocketStrategy(tls.socketStrategy())
                        // Long polls hold a connection each; the pool never makes a call wait for one.
                        .setMaxConnPerRoute(1_000).setMaxConnTotal(10_000)
                        .setDefaultConnectionConfig(connections.build()).build())
                .setDefaultRequestConfig(requests.build())
                .disableAutomaticRetries().disableRedirectHandling().disableCookieManagement().disableContentCompression()
                .build();
        return new HttpComponentsClientHttpRequestFactory(client);
    }

    /** {@link #signed(FabricKeys, Duration, Duration)} over {@link #pooled} connections: for direct calls with short answers. */
    public static RestClient.Builder signedPooled(FabricKeys keys, Duration connectTimeout, Duration readTimeout) {
        return signed(keys, pooled(connectTimeout, readTimeout));
    }

    /**
     * A client builder over a request factory of the caller's ({@link #pooled}, or {@link #requestFactory}
     * over a JDK client it releases itself), every request signed with the fabric key.
     */
    public static RestClient.Builder signed(FabricKeys keys, ClientHttpRequestFactory requestFactory) {
        return RestClient.builder()
                .requestFactory(requestFactory)
                .requestInterceptor(new FabricSigningInterceptor(new RequestSigner(keys, Clock.systemUTC())));
    }

    /** How long {@link #release(HttpClient)} waits for a JDK client's threads to end. */
    private static final Duration RELEASE_WAIT = Duration.ofSeconds(10);

    /**
     * Releases a JDK client at once: exchanges under way (a stream, a long poll) are broken off, its
     * connections closed, and its selector and worker threads end, which this waits for (up to 10 s).
     * Not {@link HttpClient#close()}, which waits for every exchange to end, and a stream may not.
     */
    public static void release(HttpClient http) {
        http.shutdownNow();
        try {
            if (!http.awaitTermination(RELEASE_WAIT)) {
                log.warn("an HTTP client's threads did not end within {} of its shutdown", RELEASE_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Releases a {@link #pooled} factory at once: its pooled connections, those in use too (a call
     * under way fails), are closed, and the pool takes no more calls.
     */
    public static void release(HttpComponentsClientHttpRequestFactory pooled) {
        if (pooled.getHttpClient() instanceof CloseableHttpClient client) {
            client.close(CloseMode.IMMEDIATE);
        }
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
            // The pooled client's: its connect timeout, and a read that waited past the read timeout.
            if (t instanceof org.apache.hc.client5.http.ConnectTimeoutException) {
                return "connection timed out";
            }
            if (t instanceof java.net.SocketTimeoutException) {
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
        return signed(keys, requestFactory(connectTimeout, readTimeout, relay));
    }

    /**
     * A client builder over {@link #requestFactory} and nothing else: for unsigned calls (a member
     * redeeming its one-time password, an open path), or a client that adds interceptors of its own,
     * such as a {@link FabricSigningInterceptor} over a signer with another clock.
     */
    public static RestClient.Builder plain(Duration connectTimeout, Duration readTimeout) {
        return plain(connectTimeout, readTimeout, null);
    }

    /** {@link #plain(Duration, Duration)} through a bridge's relay port ({@code null}: direct). */
    public static RestClient.Builder plain(Duration connectTimeout, Duration readTimeout, InetSocketAddress relay) {
        return RestClient.builder().requestFactory(requestFactory(connectTimeout, readTimeout, relay));
    }
}
