package dev.fabric.core.spring;

import dev.fabric.core.problem.FabricProblemAdvice;
import dev.fabric.core.signature.Rejection;
import dev.fabric.core.signature.SignableRequest;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextHolderStrategy;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Spring Security filter that enforces the fabric signature policy: every request outside the
 * open paths has its signature's header fields verified, then (only if they pass) its body
 * buffered (up to a limit) and checked against its digest, all through the
 * {@link AuthenticationManager} ({@link SignatureAuthenticationProvider}), and either goes on as a
 * {@link FabricAuthentication} or is answered with a {@code problem+json} naming the reason.
 * Rejections are counted in {@value #REJECTIONS_METRIC} by reason, and as every problem answer in
 * {@code fabric.problems} by reason and status.
 */
public final class SignatureAuthenticationFilter extends OncePerRequestFilter {

    public static final String REJECTIONS_METRIC = "fabric.signature.rejections";
    public static final String VERIFIED_METRIC = "fabric.signature.verified";

    private static final Logger log = LoggerFactory.getLogger(SignatureAuthenticationFilter.class);

    private final AuthenticationManager authenticationManager;
    private final RequestMatcher openPaths;
    private final long maxBodyBytes;
    private final ProblemResponses problems;
    private final MeterRegistry meters;
    private final io.micrometer.core.instrument.Counter verified;
    private final SecurityContextHolderStrategy contexts = SecurityContextHolder.getContextHolderStrategy();

    /**
     * @param meters where rejections are counted, or {@code null} when the application has no metrics
     */
    public SignatureAuthenticationFilter(AuthenticationManager authenticationManager, RequestMatcher openPaths,
                                         long maxBodyBytes, ProblemResponses problems, MeterRegistry meters) {
        this.authenticationManager = authenticationManager;
        this.openPaths = openPaths;
        this.maxBodyBytes = maxBodyBytes;
        this.problems = problems;
        this.meters = meters;
        this.verified = meters == null ? null : meters.counter(VERIFIED_METRIC);
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return openPaths.matches(request);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        CachedBodyRequest cached = new CachedBodyRequest(request, maxBodyBytes);
        Authentication result;
        try {
            result = authenticationManager.authenticate(new SignedRequestToken(view(request), cached.bodyAnnounced(), cached::body));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } catch (SignatureAuthenticationException e) {
            reject(request, response, e.rejection(), e.getMessage());
            return;
        } catch (IllegalArgumentException e) {
            reject(request, response, Rejection.MALFORMED, "the request target cannot be read: " + e.getMessage());
            return;
        }
        SecurityContext context = contexts.createEmptyContext();
        context.setAuthentication(result);
        contexts.setContext(context);
        if (verified != null) {
            verified.increment();
        }
        try {
            chain.doFilter(cached, response);
        } finally {
            contexts.clearContext();
        }
    }

    private void reject(HttpServletRequest request, HttpServletResponse response, Rejection rejection, String detail)
            throws IOException {
        if (meters != null) {
            meters.counter(REJECTIONS_METRIC, "reason", rejection.code()).increment();
            // Every problem answer is counted there too (docs/problems.md), this one before MVC could count it.
            meters.counter(FabricProblemAdvice.METRIC, "reason", rejection.code(), "status", Integer.toString(rejection.status())).increment();
        }
        log.info("rejected {} {} from {}: {} ({})", request.getMethod(), request.getRequestURI(), request.getRemoteAddr(),
                rejection.code(), detail);
        problems.write(request, response, rejection, detail);
    }

    /** The request as the signer saw it: method, absolute target URI, header fields. */
    public static SignableRequest view(HttpServletRequest request) {
        String host = request.getServerName();
        if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        String query = request.getQueryString();
        String target = request.getScheme() + "://" + host + ":" + request.getServerPort() + request.getRequestURI()
                + (query == null ? "" : "?" + query);
        URI uri;
        try {
            uri = new URI(target);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(e.getReason(), e);
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            headers.put(name, Collections.list(request.getHeaders(name)));
        }
        return new SignableRequest(request.getMethod(), uri, headers);
    }
}
