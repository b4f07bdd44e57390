package dev.fabric.cli;

import dev.fabric.cli.common.ExitCodes;
import dev.fabric.cli.context.FabricHome;
import dev.fabric.core.keys.FabricKeys;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who may use a console, over real HTTP against the real command: nothing without the one-time
 * token, the token once only and only in the run that printed it, actions only with the session's
 * header from the console's own origin, and only under the console's own host name. No registry is
 * needed for any of it (the console serves while the registry is away, and says so).
 */
class ConsoleSecurityTest {

    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    private Cli cli;

    @BeforeEach
    void fabricWithoutRegistry(@TempDir Path dir) throws IOException {
        FabricKeys.generate().writeTo(dir.resolve("keys"));
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        cli = new Cli(Map.of(FabricHome.HOME_ENV, dir.resolve("home").toString(), FabricHome.REGISTRY_ENV, "http://127.0.0.1:" + closedPort,
                FabricHome.KEYS_ENV, dir.resolve("keys").toString()), dir, Clock.systemUTC());
    }

    @Test
    void thePageIsRefusedWithoutTheToken() throws Exception {
        try (RunningConsole console = new RunningConsole(cli)) {
            assertThat(console.base()).startsWith("http://127.0.0.1:");
            for (String path : new String[] {"/", "/console.js", "/api/events", "/api/session", "/api/members/x"}) {
                HttpResponse<String> refused = get(console, path, null);
                assertThat(refused.statusCode()).as(path).isEqualTo(401);
                assertThat(refused.body()).as(path).doesNotContain("actionToken").doesNotContain("<script");
            }
            HttpResponse<String> wrong = get(console, "/login?token=not-the-token", null);
            assertThat(wrong.statusCode()).isEqualTo(403);
            assertThat(wrong.body()).contains("not valid for this console");
        }
    }

    @Test
    void theTokenOpensOneSessionOnceAndTheCookieIsHttpOnlyAndStrict() throws Exception {
        try (RunningConsole console = new RunningConsole(cli)) {
            HttpResponse<String> login = get(console, "/login?token=" + console.token(), null);
            assertThat(login.statusCode()).isEqualTo(303);
            assertThat(login.headers().firstValue("Location")).hasValue("/");
            String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
            assertThat(setCookie).startsWith("fabric_console=").contains("HttpOnly", "SameSite=Strict", "Path=/");
            String cookie = setCookie.substring(0, setCookie.indexOf(';'));

            HttpResponse<String> page = get(console, "/", cookie);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("fabric console", "/console.js");
            assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp -> assertThat(csp).contains("script-src 'self'"));
            assertThat(page.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");

            HttpResponse<String> again = get(console, "/login?token=" + console.token(), null);
            assertThat(again.statusCode()).as("a token works once").isEqualTo(403);
            assertThat(again.headers().firstValue("Set-Cookie")).isEmpty();
        }
    }

    @Test
    void aTokenOfAnOlderRunIsRefused() throws Exception {
        String oldToken;
        try (RunningConsole older = new RunningConsole(cli)) {
            oldToken = older.token();
        }
        try (RunningConsole console = new RunningConsole(cli)) {
            assertThat(console.token()).isNotEqualTo(oldToken);
            HttpResponse<String> refused = get(console, "/login?token=" + oldToken, null);
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(refused.body()).contains("printed by another (older) run of fabric console");
            assertThat(refused.headers().firstValue("Set-Cookie")).isEmpty();
        }
    }

    @Test
    void actionsNeedTheSessionsHeaderAndTheConsolesOwnOrigin() throws Exception {
        try (RunningConsole console = new RunningConsole(cli)) {
            String cookie = login(console);
            String actionToken = get(console, "/api/session", cookie).body().replaceAll(".*\"actionToken\":\"([^\"]+)\".*", "$1");

            HttpResponse<String> noHeader = post(console, "/api/members/queue-1/stop", cookie, null, null);
            assertThat(noHeader.statusCode()).isEqualTo(403);
            assertThat(noHeader.body()).contains("action header");

            HttpResponse<String> otherSite = post(console, "/api/members/queue-1/stop", cookie, actionToken, "http://evil.example");
            assertThat(otherSite.statusCode()).isEqualTo(403);

            HttpResponse<String> wrongHeader = post(console, "/api/members/queue-1/stop", cookie, actionToken + "x", console.base());
            assertThat(wrongHeader.statusCode()).isEqualTo(403);

            HttpResponse<String> noCookie = post(console, "/api/members/queue-1/stop", null, actionToken, console.base());
            assertThat(noCookie.statusCode()).isEqualTo(401);

            // Accepted by the console, which then cannot reach the registry to find the member's spawner: a clear error.
            HttpResponse<String> allowed = post(console, "/api/members/queue-1/stop", cookie, actionToken, console.base());
            assertThat(allowed.statusCode()).isEqualTo(502);
            assertThat(allowed.body()).contains("cannot reach the spawner");

            HttpResponse<String> badId = post(console, "/api/members/..%2Fetc/stop", cookie, actionToken, console.base());
            assertThat(badId.statusCode()).isEqualTo(400);
            assertThat(badId.body()).contains("is not a member id");
        }
    }

    @Test
    void anotherHostNameIsRefused() throws Exception {
        try (RunningConsole console = new RunningConsole(cli)) {
            String cookie = login(console);
            int port = console.uri("/").getPort();
            try (Socket socket = new Socket("127.0.0.1", port)) {
                OutputStream out = socket.getOutputStream();
                out.write(("GET /api/session HTTP/1.1\r\nHost: rebound.example:" + port + "\r\nCookie: " + cookie
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = socket.getInputStream();
                String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                assertThat(answer).startsWith("HTTP/1.1 421").doesNotContain("actionToken");
            }
        }
    }

    @Test
    void theRegistryAwayIsSaidOnTheEventStream() throws Exception {
        try (RunningConsole console = new RunningConsole(cli)) {
            String cookie = login(console);
            HttpResponse<InputStream> events = http.send(HttpRequest.newBuilder(console.uri("/api/events")).header("Cookie", cookie).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(events.statusCode()).isEqualTo(200);
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(events.body(), StandardCharsets.UTF_8))) {
                String line;
                boolean down = false;
                while (!down && (line = reader.readLine()) != null) {
                    down = line.startsWith("data: ") && line.contains("\"up\":false") && line.contains("cannot reach the registry");
                }
                assertThat(down).isTrue();
            }
        }
    }

    @Test
    void withoutKeysTheConsoleDoesNotStart(@TempDir Path empty) {
        Cli noKeys = new Cli(Map.of(FabricHome.HOME_ENV, empty.toString(), FabricHome.KEYS_ENV, empty.resolve("none").toString()), empty,
                Clock.systemUTC());
        Cli.Result result = noKeys.run("console", "--port", "0");
        assertThat(result.exitCode()).isEqualTo(ExitCodes.KEYS);
        assertThat(result.out()).isEmpty();
        assertThat(result.err()).contains("no fabric keys");
    }

    private String login(RunningConsole console) throws Exception {
        String setCookie = get(console, "/login?token=" + console.token(), null).headers().firstValue("Set-Cookie").orElseThrow();
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    private HttpResponse<String> get(RunningConsole console, String path, String cookie) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(console.uri(path)).timeout(Duration.ofSeconds(10));
        if (cookie != null) {
            request.header("Cookie", cookie);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(RunningConsole console, String path, String cookie, String actionToken, String origin) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(console.uri(path)).timeout(Duration.ofSeconds(40))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}"));
        if (cookie != null) {
            request.header("Cookie", cookie);
        }
        if (actionToken != null) {
            request.header("X-Fabric-Console", actionToken);
        }
        if (origin != null) {
            request.header("Origin", origin);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
