package dev.fabric.core.spring;

import com.sun.net.httpserver.HttpServer;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.web.client.HttpStatusCodeException;
import org.springframework.web.client.RestClient;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Every signature is good once: a client that sends a request again by itself sends its signature
 * again, and the receiver refuses the second as {@code replayed}, hiding the first answer. A local
 * server answers every GET with the status its path names and counts what it receives.
 */
class FabricRestClientsTest {

    static final FabricKeys KEYS = FabricKeys.generate();
    static final Duration CONNECT = Duration.ofSeconds(2);
    static final Duration READ = Duration.ofSeconds(10);

    HttpServer server;
    /** The {@code Signature-Input} of each request received ("" when unsigned). */
    final List<String> received = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String signatureInput = exchange.getRequestHeaders().getFirst("Signature-Input");
            received.add(signatureInput == null ? "" : signatureInput);
            // What a busy member or registry answers: come back in a second.
            exchange.getResponseHeaders().set("Retry-After", "1");
            exchange.sendResponseHeaders(Integer.parseInt(exchange.getRequestURI().getPath().substring(1)), -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    String url(int status) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + status;
    }

    static Stream<Arguments> clients() {
        return Stream.of(
                Arguments.of("plain", (Supplier<RestClient>) () -> FabricRestClients.plain(CONNECT, READ).build(), false),
                Arguments.of("plain with a signer of its own", (Supplier<RestClient>) () -> FabricRestClients.plain(CONNECT, READ)
                        .requestInterceptor(new FabricSigningInterceptor(new RequestSigner(KEYS, Clock.systemUTC()))).build(), true),
                Arguments.of("signed", (Supplier<RestClient>) () -> FabricRestClients.signed(KEYS, CONNECT, READ).build(), true),
                Arguments.of("signed, no read timeout", (Supplier<RestClient>) () -> FabricRestClients.signed(KEYS, CONNECT, null).build(), true),
                Arguments.of("signedPooled", (Supplier<RestClient>) () -> FabricRestClients.signedPooled(KEYS, CONNECT, READ).build(), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void aGetAnsweredServiceUnavailableIsSentOnceAndItsAnswerReachesTheCaller(String name, Supplier<RestClient> client, boolean signed) {
        assertSentOnce(client.get(), 503, signed);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clients")
    void aGetAnsweredTooManyRequestsIsSentOnceAndItsAnswerReachesTheCaller(String name, Supplier<RestClient> client, boolean signed) {
        assertSentOnce(client.get(), 429, signed);
    }

    /**
     * Why every client comes from {@link FabricRestClients}: fabric-core brings Apache HttpClient, and
     * a {@code RestClient.builder()} left to choose takes it with its default retries. Should this
     * ever fail, the warning in fabric-core's README and docs/security.md is out of date.
     */
    @Test
    void aRestClientLeftToChooseItsFactorySendsAGetAnsweredServiceUnavailableAgain() {
        RestClient client = RestClient.builder()
                .requestInterceptor(new FabricSigningInterceptor(new RequestSigner(KEYS, Clock.systemUTC()))).build();

        catchThrowableOfType(HttpStatusCodeException.class, () -> client.get().uri(url(503)).retrieve().toBodilessEntity());

        assertThat(received).hasSize(2);
        assertThat(received.get(1)).as("the same signature, nonce included, sent again").isEqualTo(received.get(0));
    }

    void assertSentOnce(RestClient client, int status, boolean signed) {
        HttpStatusCodeException answer = catchThrowableOfType(HttpStatusCodeException.class,
                () -> client.get().uri(url(status)).retrieve().toBodilessEntity());

        assertThat(answer).isNotNull();
        assertThat(answer.getStatusCode().value()).isEqualTo(status);
        assertThat(received).hasSize(1);
        assertThat(received.getFirst()).as("signed").matches(signed ? ".*nonce=.*" : "");
    }
}
