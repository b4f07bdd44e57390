package dev.fabric.core.spring;

import jakarta.servlet.DispatcherType;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.access.intercept.AuthorizationFilter;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;

import java.util.List;

/**
 * Applies the fabric signature policy to an {@link HttpSecurity}: stateless, no CSRF (there are no
 * cookies), open paths permitted, everything else must be a verified fabric request. The
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
}
