package dev.fabric.cli.commands.console;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fabric.cli.common.CliException;
import dev.fabric.cli.common.ExitCodes;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The console's web server: the JDK's own {@code com.sun.net.httpserver} (no new dependency, no
 * application context, one virtual thread per exchange, which suits the long-lived event streams).
 *
 * <p>What it serves is private to the console, for its page only:
 * <pre>
 * GET  /login?token=T                 spends the one-time token: a session cookie, then the page
 * GET  /  /console.js  /console.css   the page (session cookie required)
 * GET  /api/session                   the value the page's actions must carry in X-Fabric-Console
 * GET  /api/events                    text/event-stream: snapshot, member, removed, change, registry, sample
 * GET  /api/members/{id}              instance, sessions, history (from the registry)
 * GET  /api/members/{id}/status       the member's management status (its role's status)
 * GET  /api/sessions                  session id to the members serving it
 * POST /api/spawn {type, name}        spawn a member of a role
 * POST /api/members/{id}/stop         stop it through its spawner
 * POST /api/members/{id}/restart      restart it through its spawner
 * POST /api/members/{id}/sessions {session, add}   add or remove a session id
 * </pre>
 * Every request must name this console in {@code Host}; every one but the login needs the session
 * cookie; every POST also the session's {@code X-Fabric-Console} header and, when the browser sends
 * one, this console's own {@code Origin}. The fabric keys stay in this process: the page's requests
 * and answers carry none of them.
 */
final class ConsoleServer implements AutoCloseable {

    /** Ends a page's event stream (its queue overflowed, or the console stops); the EventSource reconnects. */
    static final String END_OF_STREAM = "";

    private static final Duration KEEP_ALIVE = Duration.ofSeconds(15);
    private static final Map<String, String> ASSETS = Map.of(
            "/", "index.html",
            "/console.js", "console.js",
            "/console.css", "console.css");
    private static final Pattern MEMBER = Pattern.compile("/api/members/([^/]+)(/status|/log|/stop|/restart|/sessions)?");
    private static final int MAX_BODY = 16 * 1024;

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final ConsoleAuth auth;
    private final FabricView view;
    private final ConsoleActions actions;
    private final JsonMapper json;
    private final String boundAddress;

    ConsoleServer(InetSocketAddress address, ConsoleAuth auth, FabricView view, ConsoleActions actions, JsonMapper json) throws IOException {
        this.auth = auth;
        this.view = view;
        this.actions = actions;
        this.json = json;
        this.boundAddress = address.getAddress().getHostAddress();
        this.server = HttpServer.create(address, 64);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
    }

    void start() {
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void handle(HttpExchange exchange) {
        // Not try-with-resources: its resource closes before the catch blocks, which still answer on it.
        try {
            secureHeaders(exchange.getResponseHeaders());
            String path = exchange.getRequestURI().getRawPath();
            if (!ConsoleAuth.hostAllowed(exchange.getRequestHeaders().getFirst("Host"), boundAddress, port())) {
                page(exchange, 421, "Wrong host name", "This console answers only under the address it printed (127.0.0.1 or localhost).");
                return;
            }
            if (path.equals("/login")) {
                login(exchange);
                return;
            }
            Optional<ConsoleAuth.Session> session = auth.session(exchange.getRequestHeaders().get("Cookie"));
            if (session.isEmpty()) {
                refuse(exchange, path);
                return;
            }
            String method = exchange.getRequestMethod();
            if (method.equals("POST")) {
                Headers headers = exchange.getRequestHeaders();
                if (!ConsoleAuth.actionAllowed(session.get(), headers.getFirst(ConsoleAuth.ACTION_HEADER), headers.getFirst("Origin"),
                        headers.getFirst("Host"))) {
                    error(exchange, 403, "this action lacks the console's action header or comes from another origin; reload the console's page", List.of());
                    return;
                }
                post(exchange, path);
            } else if (method.equals("GET") || method.equals("HEAD")) {
                get(exchange, path, session.get());
            } else {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD, POST");
                error(exchange, 405, method + " is not used by the console", List.of());
            }
        } catch (CliException e) {
            error(exchange, status(e), e.getMessage(), e.hints());
        } catch (IOException e) {
            // The page went away mid-answer: nothing to tell it.
        } catch (RuntimeException e) {
            error(exchange, 500, "the console failed: " + e, List.of("this is a bug in the console; its terminal shows no more"));
        } finally {
            exchange.close();
        }
    }

    private void login(HttpExchange exchange) throws IOException {
        String token = query(exchange, "token");
        Optional<ConsoleAuth.Session> session = auth.login(token);
        if (session.isPresent()) {
            exchange.getResponseHeaders().add("Set-Cookie", ConsoleAuth.cookie(session.get()));
        } else if (auth.session(exchange.getRequestHeaders().get("Cookie")).isEmpty()) {
            page(exchange, 403, "Login token refused",
                    "This login token is not valid for this console: it was used already, or it was printed by another (older) run of "
                            + "fabric console. Open the URL this console printed, or start fabric console again for a new one.");
            return;
        }
        // Off the URL with the token at once, so it stays in no history and no bookmark.
        exchange.getResponseHeaders().set("Location", "/");
        exchange.sendResponseHeaders(303, -1);
    }

    private void refuse(HttpExchange exchange, String path) throws IOException {
        if (path.startsWith("/api/")) {
            error(exchange, 401, "no console session: open the URL fabric console printed (it carries a one-time login token)", List.of());
        } else {
            page(exchange, 401, "Login required",
                    "Open the URL that fabric console printed in its terminal: it carries a one-time login token that opens a session "
                            + "for this browser.");
        }
    }

    private void get(HttpExchange exchange, String path, ConsoleAuth.Session session) throws IOException {
        String asset = ASSETS.get(path);
        if (asset != null) {
            asset(exchange, asset);
            return;
        }
        switch (path) {
            case "/api/session" -> {
                ObjectNode answer = json.createObjectNode().put("actionToken", session.actionToken()).put("registry", view.registryUrl());
                send(exchange, 200, answer);
            }
            case "/api/events" -> events(exchange);
            case "/api/sessions" -> send(exchange, 200, json.valueToTree(view.sessions()));
            default -> {
                Matcher member = MEMBER.matcher(path);
                if (member.matches() && member.group(2) == null) {
                    send(exchange, 200, actions.member(decode(member.group(1))));
                } else if (member.matches() && member.group(2).equals("/status")) {
                    send(exchange, 200, actions.status(decode(member.group(1))));
                } else if (member.matches() && member.group(2).equals("/log")) {
                    send(exchange, 200, actions.log(decode(member.group(1))));
                } else {
                    error(exchange, 404, "the console has no " + path, List.of());
                }
            }
        }
    }

    private void post(HttpExchange exchange, String path) throws IOException {
        JsonNode body = body(exchange);
        if (path.equals("/api/spawn")) {
            String id = actions.spawn(body.path("type").asString(null), body.path("name").asString(null));
            send(exchange, 202, json.createObjectNode().put("id", id));
            return;
        }
        Matcher member = MEMBER.matcher(path);
        if (!member.matches() || member.group(2) == null || member.group(2).equals("/status") || member.group(2).equals("/log")) {
            error(exchange, 404, "the console has no action " + path, List.of());
            return;
        }
        String id = decode(member.group(1));
        switch (member.group(2)) {
            case "/stop" -> actions.stop(id);
            case "/restart" -> actions.restart(id);
            default -> actions.session(id, body.path("session").asString(null), body.path("add").asBoolean(true));
        }
        send(exchange, 200, json.createObjectNode().put("id", id).put("done", true));
    }

    private void events(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.sendResponseHeaders(200, 0);
        BlockingQueue<String> queue = view.subscribe();
        try {
            OutputStream out = exchange.getResponseBody();
            out.write("retry: 1000\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (true) {
                String event = queue.poll(KEEP_ALIVE.toMillis(), TimeUnit.MILLISECONDS);
                if (END_OF_STREAM.equals(event)) {
                    return;
                }
                out.write((event == null ? ": keep-alive\n\n" : event).getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            view.unsubscribe(queue);
        }
    }

    private void asset(HttpExchange exchange, String name) throws IOException {
        byte[] bytes;
        try (InputStream in = ConsoleServer.class.getResourceAsStream("/console/" + name)) {
            if (in == null) {
                error(exchange, 500, "the console's " + name + " is missing from its jar", List.of());
                return;
            }
            bytes = in.readAllBytes();
        }
        String type = name.endsWith(".js") ? "text/javascript" : name.endsWith(".css") ? "text/css" : "text/html";
        exchange.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
        write(exchange, 200, bytes);
    }

    private JsonNode body(HttpExchange exchange) throws IOException {
        byte[] bytes = exchange.getRequestBody().readNBytes(MAX_BODY + 1);
        if (bytes.length > MAX_BODY) {
            throw new CliException(ExitCodes.USAGE, "the request is larger than the console takes (" + MAX_BODY + " bytes)");
        }
        if (bytes.length == 0) {
            return json.createObjectNode();
        }
        try {
            return json.readTree(bytes);
        } catch (JacksonException e) {
            throw new CliException(ExitCodes.USAGE, "the request is not JSON: " + e.getOriginalMessage());
        }
    }

    private void error(HttpExchange exchange, int status, String message, List<String> hints) {
        ObjectNode answer = json.createObjectNode().put("error", message);
        hints.forEach(answer.putArray("hints")::add);
        try {
            send(exchange, status, answer);
        } catch (IOException | RuntimeException e) {
            // Headers already sent, or the page went away.
        }
    }

    private void send(HttpExchange exchange, int status, JsonNode answer) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        write(exchange, status, json.writeValueAsBytes(answer));
    }

    private void page(HttpExchange exchange, int status, String title, String text) throws IOException {
        String html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>fabric console: " + title
                + "</title></head><body><main><h1>" + title + "</h1><p id=\"refusal\">" + text + "</p></main></body></html>";
        exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
        write(exchange, status, html.getBytes(StandardCharsets.UTF_8));
    }

    private static void write(HttpExchange exchange, int status, byte[] bytes) throws IOException {
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length == 0 ? -1 : bytes.length);
        if (!head && bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
    }

    private static void secureHeaders(Headers headers) {
        headers.set("Cache-Control", "no-store");
        // The login URL carries the token: never hand it to another site.
        headers.set("Referrer-Policy", "no-referrer");
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("X-Frame-Options", "DENY");
        headers.set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                + "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    }

    private static int status(CliException e) {
        return switch (e.exitCode()) {
            case ExitCodes.USAGE -> 400;
            case ExitCodes.NOT_FOUND -> 404;
            case ExitCodes.CONFLICT -> 409;
            case ExitCodes.REFUSED, ExitCodes.UNREACHABLE, ExitCodes.SERVER_ERROR -> 502;
            // A spawn or restart its spawner did not answer in time: it may still be under way.
            case ExitCodes.MEMBER_FAILED -> 504;
            default -> 500;
        };
    }

    private static String query(HttpExchange exchange, String name) {
        String query = exchange.getRequestURI().getRawQuery();
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && decode(pair.substring(0, eq)).equals(name)) {
                return decode(pair.substring(eq + 1));
            }
        }
        return null;
    }

    private static String decode(String raw) {
        return URLDecoder.decode(raw, StandardCharsets.UTF_8);
    }
}
