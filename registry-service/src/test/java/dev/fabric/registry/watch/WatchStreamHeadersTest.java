package dev.fabric.registry.watch;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.RequestSigner;
import dev.fabric.core.spring.FabricRestClients;
import dev.fabric.registry.RegistryApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.client.RestClient;
import org.springframework.web.servlet.AsyncHandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A watch stream sends from a thread of its own, started before the request that opened it has left
 * the filter chain. Spring Security wrote its headers on that way out (or when the stream's first
 * event committed the response, on the stream's thread), so both threads could write them into
 * Tomcat's response at once: a client then got its response without them, with them twice, or never
 * (it waited for its headers until it gave up; seen in CI). That damage needs the two writes to meet
 * and is rare; the late write itself happened in nearly every watch, so the test looks for it: no
 * header written by the request's thread once its stream may write, and every watch of many opened
 * together answers 200 with its headers, each exactly once, and its events.
 */
@SpringBootTest(classes = {RegistryApplication.class, WatchStreamHeadersTest.LateHeaderWrites.class},
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class WatchStreamHeadersTest {

    static final FabricKeys KEYS = FabricKeys.generate();
    static final int ROUNDS = 4;
    static final int WATCHES = 32;

    @TempDir
    static Path data;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        Path keys = data.resolve("keys");
        KEYS.writeTo(keys);
        registry.add("fabric.registry.data-dir", () -> data.resolve("db").toString());
        registry.add("fabric.security.keys-path", keys::toString);
        registry.add("fabric.registry.watch.max-streams", () -> "10000");
        // A stream whose client left ends at its next keep-alive; keep them short so rounds do not pile up.
        registry.add("fabric.registry.watch.keep-alive", () -> "100ms");
    }

    @LocalServerPort
    int port;

    @Autowired
    LateHeaderWrites lateWrites;

    @Test
    void everyWatchOpenedTogetherAnswersWithItsHeadersOnceAndItsEvents() throws Exception {
        // No read timeout: the watches stream.
        RestClient client = FabricRestClients.signed(KEYS, Duration.ofSeconds(5), null).baseUrl("http://127.0.0.1:" + port).build();
        String prefix = "w-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        List<String> ids = List.of(prefix + 1, prefix + 2, prefix + 3);
        for (String id : ids) {
            // PENDING: the failure detector leaves it alone, so no other change joins the stream.
            client.post().uri("/api/v1/instances").contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("id", id, "type", "queue", "state", "PENDING")).retrieve().toBodilessEntity();
        }

        Queue<String> failures = new ConcurrentLinkedQueue<>();
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
             ExecutorService watchers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int round = 0; round < ROUNDS; round++) {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<?>> watches = new ArrayList<>();
                for (int n = 0; n < WATCHES; n++) {
                    String name = "round " + round + " watch " + n;
                    watches.add(watchers.submit(() -> {
                        go.await();
                        watch(http, name, ids, failures);
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> watch : watches) {
                    watch.get();
                }
            }
        }
        assertThat(failures).as("watches that came without their headers or events, of " + ROUNDS * WATCHES).isEmpty();
        assertThat(lateWrites.seen).as("headers the request's own thread wrote after its stream had started (by request), in "
                + lateWrites.seen.size() + " of " + ROUNDS * WATCHES + " watches").isEmpty();
    }

    private void watch(HttpClient http, String name, List<String> ids, Queue<String> failures) {
        URI uri = URI.create("http://127.0.0.1:" + port + "/api/v1/watch?since=0");
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream")
                // Bounds the wait for headers that never come (the failure this test is about), not their speed.
                .timeout(Duration.ofSeconds(30));
        new RequestSigner(KEYS, Clock.systemUTC()).sign("GET", uri, Map.of(), new byte[0]).forEach(request::header);
        try {
            HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader body = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                List<String> problems = new ArrayList<>();
                if (response.statusCode() != 200) {
                    problems.add("status " + response.statusCode());
                }
                var headers = response.headers();
                if (!headers.firstValue("Content-Type").orElse("").startsWith(MediaType.TEXT_EVENT_STREAM_VALUE)) {
                    problems.add("Content-Type " + headers.allValues("Content-Type"));
                }
                expectOnce(headers, "X-Content-Type-Options", "nosniff", problems);
                expectOnce(headers, "X-Frame-Options", "DENY", problems);
                expectOnce(headers, "Cache-Control", "no-cache, no-store, max-age=0, must-revalidate", problems);
                if (problems.isEmpty()) {
                    List<String> seen = registered(body, ids);
                    if (!seen.equals(ids)) {
                        problems.add("events for " + seen + " instead of " + ids);
                    }
                }
                if (!problems.isEmpty()) {
                    failures.add(name + ": " + problems + " (headers " + headers.map() + ")");
                }
            }
        } catch (Exception e) {
            failures.add(name + ": " + e);
        }
    }

    private static void expectOnce(java.net.http.HttpHeaders headers, String name, String value, List<String> problems) {
        if (!headers.allValues(name).equals(List.of(value))) {
            problems.add(name + " " + headers.allValues(name));
        }
    }

    /**
     * Records every header the thread serving a request writes after the handler has handed the
     * response to its stream (Spring MVC's {@code afterConcurrentHandlingStarted}): from then on the
     * stream's thread may write the response at any moment, and Tomcat's response is not safe for two
     * threads. Whether the stream's first event got there first decides whether such a write meets
     * the stream's, so the write itself is what this looks for, not its rare visible damage.
     */
    @TestConfiguration
    static class LateHeaderWrites implements WebMvcConfigurer {

        static final String STREAMING = LateHeaderWrites.class.getName() + ".streaming";

        /** Per request that had some: the headers written late. */
        final Map<Integer, Queue<String>> seen = new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();

        @Bean
        FilterRegistrationBean<Filter> lateHeaderWritesFilter() {
            FilterRegistrationBean<Filter> registration = new FilterRegistrationBean<>((request, response, chain) -> {
                Thread serving = Thread.currentThread();
                int number = requests.incrementAndGet();
                HttpServletRequest http = (HttpServletRequest) request;
                chain.doFilter(request, new HttpServletResponseWrapper((HttpServletResponse) response) {
                    private void write(String what) {
                        if (Thread.currentThread() == serving && http.getAttribute(STREAMING) != null) {
                            seen.computeIfAbsent(number, n -> new ConcurrentLinkedQueue<>()).add(what);
                        }
                    }

                    @Override
                    public void setHeader(String name, String value) {
                        write(name);
                        super.setHeader(name, value);
                    }

                    @Override
                    public void addHeader(String name, String value) {
                        write(name);
                        super.addHeader(name, value);
                    }

                    @Override
                    public void setIntHeader(String name, int value) {
                        write(name);
                        super.setIntHeader(name, value);
                    }

                    @Override
                    public void addIntHeader(String name, int value) {
                        write(name);
                        super.addIntHeader(name, value);
                    }

                    @Override
                    public void setDateHeader(String name, long value) {
                        write(name);
                        super.setDateHeader(name, value);
                    }

                    @Override
                    public void addDateHeader(String name, long value) {
                        write(name);
                        super.addDateHeader(name, value);
                    }

                    @Override
                    public void setContentType(String type) {
                        write("Content-Type");
                        super.setContentType(type);
                    }
                });
            });
            // Outside the security filter chain, so every header its filters write passes here.
            registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
            registration.addUrlPatterns("/api/v1/watch");
            registration.setDispatcherTypes(DispatcherType.REQUEST);
            return registration;
        }

        @Override
        public void addInterceptors(InterceptorRegistry registry) {
            registry.addInterceptor(new AsyncHandlerInterceptor() {
                @Override
                public void afterConcurrentHandlingStarted(HttpServletRequest request, HttpServletResponse response, Object handler) {
                    request.setAttribute(STREAMING, true);
                }
            });
        }
    }

    /** The ids of the REGISTERED events for the given instances, in the order they come, until all have. */
    private static List<String> registered(BufferedReader body, List<String> ids) throws Exception {
        List<String> seen = new ArrayList<>();
        String kind = null;
        String line;
        while (seen.size() < ids.size() && (line = body.readLine()) != null) {
            if (line.startsWith("event:")) {
                kind = line.substring(6).strip();
            } else if (line.startsWith("data:") && "REGISTERED".equals(kind)) {
                for (String id : ids) {
                    if (line.contains("\"" + id + "\"")) {
                        seen.add(id);
                    }
                }
            } else if (line.isEmpty()) {
                kind = null;
            }
        }
        return seen;
    }
}
