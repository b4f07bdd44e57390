package dev.fabric.core.spring;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.problem.FabricProblemAdvice;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.testsupport.MutableClock;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The Spring Security integration end to end: a real server, a signing RestClient, and raw tampered requests. */
@SpringBootTest(classes = SignedEndpointsTest.App.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"fabric.security.signature.max-body-size=1KB", "management.endpoints.web.exposure.include=health",
                "fabric.security.signature.authorities=fabric-service.fabric.svc:8470"})
class SignedEndpointsTest {

    static final FabricKeys KEYS = FabricKeys.generate();
    static final JsonMapper JSON = JsonMapper.builder().build();

    @SpringBootApplication
    static class App {
        @Bean
        FabricKeys fabricKeys() {
            return KEYS;
        }

        @RestController
        static class Endpoints {
            @PostMapping("/echo")
            String echo(@RequestBody String body) {
                return body;
            }

            @GetMapping("/whoami")
            String whoami(Authentication authentication) {
                return authentication.getName();
            }

            /** The security headers as the handler finds them: a stream it started could write the response from here on. */
            @GetMapping("/headers-so-far")
            String headersSoFar(jakarta.servlet.http.HttpServletResponse response) {
                return response.getHeader("X-Content-Type-Options") + " " + response.getHeader("X-Frame-Options")
                        + " " + response.getHeader("Cache-Control");
            }
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    MeterRegistry meters;

    final HttpClient http = HttpClient.newHttpClient();

    URI uri(String path) {
        return URI.create("http://localhost:" + port + path);
    }

    RestClient signingClient(Clock clock) {
        return FabricRestClients.plain(Duration.ofSeconds(5), Duration.ofSeconds(30)).baseUrl("http://localhost:" + port)
                .requestInterceptor(new FabricSigningInterceptor(new RequestSigner(KEYS, clock))).build();
    }

    HttpResponse<String> send(String method, URI target, String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(target)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        if (body != null) {
            request.header("Content-Type", "text/plain");
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    Map<String, String> signatureFor(String method, URI target, String body, Clock clock) {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        return new RequestSigner(KEYS, clock).sign(method, target, Map.of(), bytes);
    }

    static void assertProblem(HttpResponse<String> response, int status, String reason) {
        assertThat(response.statusCode()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
        JsonNode problem = JSON.readTree(response.body());
        assertThat(problem.get("reason").asString()).isEqualTo(reason);
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("detail").asString()).isNotBlank();
        assertThat(response.body()).doesNotContain(KEYS.privateKeyPem().lines().skip(1).findFirst().orElseThrow());
    }

    double problems(String reason, String status) {
        var counter = meters.find(FabricProblemAdvice.METRIC).tag("reason", reason).tag("status", status).counter();
        return counter == null ? 0 : counter.count();
    }

    double rejections(String reason) {
        var counter = meters.find(SignatureAuthenticationFilter.REJECTIONS_METRIC).tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void signedRequestsFromTheRestClientPass() {
        RestClient client = signingClient(Clock.systemUTC());
        assertThat(client.post().uri("/echo").body("hello fabric").retrieve().body(String.class)).isEqualTo("hello fabric");
        assertThat(client.get().uri("/whoami").retrieve().body(String.class)).isEqualTo(KEYS.keyId());
    }

    /**
     * A streaming endpoint's thread may commit the response while the request's thread still leaves
     * the filter chain; the security headers must be written before the handler runs, not then, when
     * both threads would write them at once (see FabricSignatureSecurity.writeHeadersFirst).
     */
    @Test
    void securityHeadersAreOnTheResponseBeforeTheHandlerRuns() {
        RestClient client = signingClient(Clock.systemUTC());
        var answer = client.get().uri("/headers-so-far").retrieve().toEntity(String.class);
        assertThat(answer.getBody()).isEqualTo("nosniff DENY no-cache, no-store, max-age=0, must-revalidate");
        assertThat(answer.getHeaders().get("X-Content-Type-Options")).containsExactly("nosniff");
        assertThat(answer.getHeaders().get("Cache-Control")).containsExactly("no-cache, no-store, max-age=0, must-revalidate");
    }

    @Test
    void healthProbesAreOpen() throws Exception {
        assertThat(send("GET", uri("/actuator/health"), null, Map.of()).statusCode()).isEqualTo(200);
        assertThat(send("GET", uri("/actuator/health/liveness"), null, Map.of()).statusCode()).isIn(200, 404);
    }

    @Test
    void unsignedRequestIsRejected() throws Exception {
        double before = rejections("unsigned");
        double problems = problems("unsigned", "401");
        assertProblem(send("GET", uri("/whoami"), null, Map.of()), 401, "unsigned");
        assertThat(rejections("unsigned")).isEqualTo(before + 1);
        assertThat(problems("unsigned", "401")).as("counted as every problem answer").isEqualTo(problems + 1);
    }

    @Test
    void tamperedBodyIsRejected() throws Exception {
        Map<String, String> headers = signatureFor("POST", uri("/echo"), "pay 10", Clock.systemUTC());
        assertProblem(send("POST", uri("/echo"), "pay 99", headers), 401, "digest-mismatch");
        assertThat(rejections("digest-mismatch")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void tamperedTargetIsRejected() throws Exception {
        Map<String, String> headers = signatureFor("GET", uri("/whoami?as=a"), null, Clock.systemUTC());
        assertProblem(send("GET", uri("/whoami?as=b"), null, headers), 401, "bad-signature");
    }

    @Test
    void replayedRequestIsRejected() throws Exception {
        Map<String, String> headers = signatureFor("POST", uri("/echo"), "once", Clock.systemUTC());
        assertThat(send("POST", uri("/echo"), "once", headers).statusCode()).isEqualTo(200);
        assertProblem(send("POST", uri("/echo"), "once", headers), 401, "replayed");
    }

    @Test
    void expiredRequestIsRejected() throws Exception {
        MutableClock past = new MutableClock(Instant.now().minus(Duration.ofMinutes(2)));
        assertProblem(send("GET", uri("/whoami"), null, signatureFor("GET", uri("/whoami"), null, past)), 401, "expired");
    }

    @Test
    void malformedSignatureIsRejected() throws Exception {
        Map<String, String> headers = new java.util.HashMap<>(signatureFor("GET", uri("/whoami"), null, Clock.systemUTC()));
        headers.put("Signature", "fabric=:###:");
        assertProblem(send("GET", uri("/whoami"), null, headers), 401, "malformed-signature");
    }

    @Test
    void otherAlgorithmIsRejected() throws Exception {
        Map<String, String> headers = new java.util.HashMap<>(signatureFor("GET", uri("/whoami"), null, Clock.systemUTC()));
        headers.put("Signature-Input", headers.get("Signature-Input").replace("ed25519", "hmac-sha256"));
        assertProblem(send("GET", uri("/whoami"), null, headers), 401, "unsupported-algorithm");
    }

    @Test
    void oversizedSignatureHeaderIsRejected() throws Exception {
        Map<String, String> headers = new java.util.HashMap<>(signatureFor("GET", uri("/whoami"), null, Clock.systemUTC()));
        headers.put("Signature-Input", headers.get("Signature-Input") + ";pad=\"" + "p".repeat(5000) + "\"");
        assertProblem(send("GET", uri("/whoami"), null, headers), 401, "header-too-large");
    }

    @Test
    void unknownKeyIsRejected() throws Exception {
        FabricKeys stranger = FabricKeys.generate();
        Map<String, String> headers = new RequestSigner(stranger, Clock.systemUTC()).sign("GET", uri("/whoami"), Map.of(), new byte[0]);
        assertProblem(send("GET", uri("/whoami"), null, headers), 401, "unknown-key");
    }

    @Test
    void oversizedBodyIsRejectedWith413() throws Exception {
        String big = "x".repeat(2048);
        assertProblem(send("POST", uri("/echo"), big, signatureFor("POST", uri("/echo"), big, Clock.systemUTC())), 413, "body-too-large");
    }

    /** Sends a raw request, so the Host field can name another authority than the one connected to. */
    String sendWithHost(String host, String path, Map<String, String> headers) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("localhost", port)) {
            StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n");
            headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
            socket.getOutputStream().write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void requestSignedForAnotherMemberIsRejected() throws Exception {
        // Captured on its way to member A, then sent to this member (B) unchanged, Host and all.
        URI memberA = URI.create("http://member-a.fabric.svc:8471/whoami");
        String answer = sendWithHost("member-a.fabric.svc:8471", "/whoami", signatureFor("GET", memberA, null, Clock.systemUTC()));
        assertThat(answer).startsWith("HTTP/1.1 401").contains("\"reason\":\"wrong-authority\"");
        assertThat(rejections("wrong-authority")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void configuredAuthorityIsAccepted() throws Exception {
        URI service = URI.create("http://fabric-service.fabric.svc:8470/whoami");
        String answer = sendWithHost("fabric-service.fabric.svc:8470", "/whoami", signatureFor("GET", service, null, Clock.systemUTC()));
        assertThat(answer).startsWith("HTTP/1.1 200").endsWith(KEYS.keyId());
    }
}
