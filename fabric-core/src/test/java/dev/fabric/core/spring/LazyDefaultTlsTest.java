package dev.fabric.core.spring;

import com.sun.net.httpserver.HttpServer;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.client.HttpComponentsClientHttpRequestFactory;
import org.springframework.web.client.RestClient;

import javax.net.ssl.SSLContext;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The fabric's HTTP clients make the JVM's default TLS context at their first TLS connection, never
 * for plain HTTP: a local server answers plain requests, and a bare socket reads the first byte a
 * client sends to an {@code https://} URL (22, a TLS handshake record, when it speaks TLS).
 */
class LazyDefaultTlsTest {

    static final Duration CONNECT = Duration.ofSeconds(2);
    static final Duration READ = Duration.ofSeconds(5);
    /** The first byte of a TLS record that carries a handshake message (RFC 8446, 5.1). */
    static final int TLS_HANDSHAKE = 22;

    final AtomicInteger contexts = new AtomicInteger();
    final AtomicInteger strategies = new AtomicInteger();
    final LazyDefaultTls tls = new LazyDefaultTls(() -> {
        contexts.incrementAndGet();
        try {
            return SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }, () -> {
        strategies.incrementAndGet();
        return DefaultClientTlsStrategy.createDefault();
    });

    HttpServer server;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    URI plainUrl() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    @Test
    void theJdkClientsOfTheFabricDoNotMakeTheDefaultContextWhenBuilt() {
        HttpClient client = FabricRestClients.httpClient(CONNECT, null);
        try {
            assertThat(client.sslContext()).isSameAs(LazyDefaultTls.jvmDefault().context());
        } finally {
            client.shutdownNow();
        }
    }

    @Test
    void aJdkClientSpeakingPlainHttpNeverMakesTheDefaultContext() throws Exception {
        try (HttpClient client = FabricRestClients.jdkClientBuilder(tls).version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT).build()) {
            HttpResponse<Void> answer = client.send(HttpRequest.newBuilder(plainUrl()).build(), HttpResponse.BodyHandlers.discarding());
            assertThat(answer.statusCode()).isEqualTo(204);
        }
        assertThat(tls.made()).isFalse();
        assertThat(contexts).hasValue(0);
    }

    @Test
    void aPooledClientSpeakingPlainHttpNeverMakesTheDefaultStrategy() {
        HttpComponentsClientHttpRequestFactory pooled = FabricRestClients.pooled(CONNECT, READ, tls);
        try {
            assertThat(RestClient.builder().requestFactory(pooled).build().get().uri(plainUrl()).retrieve().toBodilessEntity()
                    .getStatusCode().value()).isEqualTo(204);
        } finally {
            FabricRestClients.release(pooled);
        }
        assertThat(tls.made()).isFalse();
        assertThat(strategies).hasValue(0);
    }

    @Test
    void aJdkClientMakesTheDefaultContextOnceAtItsFirstTlsConnectionAndSpeaksTls() throws Exception {
        try (HttpClient client = FabricRestClients.jdkClientBuilder(tls).version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT).build()) {
            for (int attempt = 0; attempt < 2; attempt++) {
                try (ServerSocket tlsPort = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    CompletableFuture<Integer> firstByte = firstByteOf(tlsPort);
                    URI url = URI.create("https://127.0.0.1:" + tlsPort.getLocalPort() + "/");
                    Throwable refused = catchThrowable(() -> client.send(HttpRequest.newBuilder(url).timeout(READ).build(),
                            HttpResponse.BodyHandlers.discarding()));
                    assertThat(firstByte.get(10, TimeUnit.SECONDS)).isEqualTo(TLS_HANDSHAKE);
                    // The port closed the connection after the client's hello: a failed handshake, not plain HTTP.
                    assertThat(refused).isInstanceOf(java.io.IOException.class);
                }
            }
        }
        assertThat(tls.made()).isTrue();
        assertThat(contexts).hasValue(1);
    }

    @Test
    void aPooledClientMakesTheDefaultStrategyOnceAtItsFirstTlsConnectionAndSpeaksTls() throws Exception {
        HttpComponentsClientHttpRequestFactory pooled = FabricRestClients.pooled(CONNECT, READ, tls);
        try {
            RestClient client = RestClient.builder().requestFactory(pooled).build();
            for (int attempt = 0; attempt < 2; attempt++) {
                try (ServerSocket tlsPort = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    CompletableFuture<Integer> firstByte = firstByteOf(tlsPort);
                    URI url = URI.create("https://127.0.0.1:" + tlsPort.getLocalPort() + "/");
                    Throwable refused = catchThrowable(() -> client.get().uri(url).retrieve().toBodilessEntity());
                    assertThat(firstByte.get(10, TimeUnit.SECONDS)).isEqualTo(TLS_HANDSHAKE);
                    assertThat(refused).isNotNull();
                }
            }
        } finally {
            FabricRestClients.release(pooled);
        }
        assertThat(tls.made()).isTrue();
        assertThat(strategies).hasValue(1);
    }

    /** Accepts one connection, reads the first byte its client sends and closes it. */
    static CompletableFuture<Integer> firstByteOf(ServerSocket port) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket connection = port.accept(); InputStream in = connection.getInputStream()) {
                connection.setSoTimeout(10_000);
                return in.read();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
