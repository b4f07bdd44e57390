package dev.fabric.core.spring;

import dev.fabric.core.signature.RequestSigner;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The verifier reads no body for a request whose signature headers already fail: an unsigned
 * stranger cannot make a server buffer (or wait for) a body, and a copy of a signed request with
 * an altered body does not use up the genuine request's nonce.
 */
@SpringBootTest(classes = SignedEndpointsTest.App.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class UnauthenticatedBodyTest {

    @LocalServerPort
    int port;

    @Test
    void unsignedRequestAnnouncingABodyIsRefusedBeforeTheBodyArrives() throws Exception {
        try (Socket socket = new Socket("localhost", port)) {
            // Only a hang guard: before the fix the server waited here for 500,000 bytes that never come.
            socket.setSoTimeout(15_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /echo HTTP/1.1\r\nHost: localhost:" + port + "\r\nContent-Type: text/plain\r\n"
                    + "Content-Length: 500000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            assertThat(in.readLine()).startsWith("HTTP/1.1 401");
        }
    }

    @Test
    void alteredCopyDoesNotSpendTheGenuineRequestsNonce() throws Exception {
        URI target = URI.create("http://localhost:" + port + "/echo");
        Map<String, String> headers = new RequestSigner(SignedEndpointsTest.KEYS, Clock.systemUTC())
                .sign("POST", target, Map.of(), "genuine".getBytes(StandardCharsets.UTF_8));
        HttpClient http = HttpClient.newHttpClient();

        HttpResponse<String> altered = http.send(post(target, "altered", headers), HttpResponse.BodyHandlers.ofString());
        assertThat(altered.statusCode()).isEqualTo(401);
        assertThat(altered.body()).contains("digest-mismatch");

        HttpResponse<String> genuine = http.send(post(target, "genuine", headers), HttpResponse.BodyHandlers.ofString());
        assertThat(genuine.statusCode()).isEqualTo(200);
        assertThat(genuine.body()).isEqualTo("genuine");
    }

    private static HttpRequest post(URI target, String body, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(target).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "text/plain");
        headers.forEach(request::header);
        return request.build();
    }
}
