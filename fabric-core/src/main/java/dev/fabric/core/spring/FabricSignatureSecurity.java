package dev.fabric.core.spring;

import jakarta.servlet.DispatcherType;
import org.springframework.security.config.ObjectPostProcessor;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.access.intercept.AuthorizationFilter;
import org.springframework.security.web.header.HeaderWriterFilter;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;

import java.util.List;

/**
 * Applies the fabric signature policy to an {@link HttpSecurity}: stateless, no CSRF (there are no
 * cookies), open paths permitted, everything else must be a verified fabric request, and the security
 * headers written before the request goes on ({@link #writeHeadersFirst}). The
 * auto-configuration uses it for its default chain; an application that builds its own chain calls
 * {@link #apply(HttpSecurity, SignatureAuthenticationFilter, List, ProblemResponses)}.
 */
public final class FabricSignatureSecurity {

    private FabricSignatureSecurity() {}

    /** A matcher for the given path patterns ({@code /actuator/health/**}). */
    public static RequestMatcher openPaths(List<String> patterns) {
        if (patterns.isEmpty()) {
            return request -> false;
        }
        return new OrRequestMatcher(patterns.stream()
                .map(pattern -> (RequestMatcher) PathPatternRequestMatcher.withDefaults().matcher(pattern))
                .toList());
    }

    public static HttpSecurity apply(HttpSecurity http, SignatureAuthenticationFilter filter, List<String> openPaths,
                                     ProblemResponses problems) throws Exception {
        RequestMatcher open = openPaths(openPaths);
        writeHeadersFirst(http);
        http.csrf(AbstractHttpConfigurer::disable)
                .httpBasic(AbstractHttpConfigurer::disable)
                .formLogin(AbstractHttpConfigurer::disable)
                .logout(AbstractHttpConfigurer::disable)
                .requestCache(AbstractHttpConfigurer::disable)
                .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .authorizeHttpRequests(authorize -> authorize
                        // The REQUEST dispatch was verified; async (server-sent events) and error dispatches continue it.
                        .dispatcherTypeMatchers(DispatcherType.ASYNC, DispatcherType.ERROR).permitAll()
                        .requestMatchers(open).permitAll()
                        .anyRequest().hasAuthority(FabricAuthentication.FABRIC_MEMBER))
                .exceptionHandling(exceptions -> exceptions
                        .authenticationEntryPoint((request, response, e) -> problems.write(request, response,
                                dev.fabric.core.signature.Rejection.UNSIGNED, "this path needs a request signed with a fabric key"))
                        .accessDeniedHandler((request, response, e) -> problems.write(request, response,
                                dev.fabric.core.signature.Rejection.UNSIGNED, "this path needs a request signed with a fabric key")))
                .addFilterBefore(filter, AuthorizationFilter.class);
        return http;
    }

    /**
     * Makes Spring Security write its response headers ({@code X-Content-Type-Options},
     * {@code Cache-Control}, ...) before the request reaches the application, instead of when the
     * response commits or the filter chain unwinds. A streaming endpoint (server-sent events from a
     * thread of its own: the registry's watch, the pubsub's subscribe) may write, and so commit, the
     * response from its thread while the request's thread still unwinds the filter chain; written late,
     * the headers are then written by both threads at once into Tomcat's response, which is not safe for
     * that: a client got a response without them, or none at all. Written first, they are in place before
     * any such thread exists. (Spring Security's HeaderWriterFilter race, spring-security#9175.)
     */
    public static HttpSecurity writeHeadersFirst(HttpSecurity http) throws Exception {
        return http.headers(headers -> headers.addObjectPostProcessor(new ObjectPostProcessor<HeaderWriterFilter>() {
            @Override
            public <O extends HeaderWriterFilter> O postProcess(O writer) {
                writer.setShouldWriteHeadersEagerly(true);
                return writer;
            }
        }));
    }
}
