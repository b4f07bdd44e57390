package dev.fabric.core.spring;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.signature.KeyResolver;
import dev.fabric.core.signature.ReceiverAuthorities;
import dev.fabric.core.signature.ReplayCache;
import dev.fabric.core.signature.SignatureVerifier;
import dev.fabric.core.signature.VerificationPolicy;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.web.SecurityFilterChain;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * Makes every fabric service verify signed requests: the fabric keys from
 * {@code fabric.security.keys-path}, the {@link SignatureVerifier} with its replay cache, the
 * {@link SignatureAuthenticationFilter}, and a default {@link SecurityFilterChain} (unless the
 * application defines its own, which can use {@link FabricSignatureSecurity}).
 */
@AutoConfiguration(beforeName = "org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration")
@ConditionalOnClass({SecurityFilterChain.class, HttpSecurity.class, JsonMapper.class})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@EnableConfigurationProperties(FabricSecurityProperties.class)
public class FabricSecurityAutoConfiguration {

    private static final Logger log = LoggerFactory.getLogger(FabricSecurityAutoConfiguration.class);

    @Bean
    @ConditionalOnMissingBean
    FabricKeysHolder fabricKeysHolder(FabricSecurityProperties properties) {
        Path path = properties.keysPath();
        if (path == null) {
            return new FabricKeysHolder(null);
        }
        // A mounted Secret links its files through ..data; a directory we wrote is 0600.
        FabricKeys keys = Files.exists(path.resolve("..data")) ? FabricKeys.loadSecretMount(path) : FabricKeys.load(path);
        log.info("loaded the fabric keys from {} (key id {})", path, keys.keyId());
        return new FabricKeysHolder(keys);
    }

    /**
     * The configured authorities and the discovered ones: this host's names and addresses on the ports
     * its web servers bind (added as they start). Applications may {@link ReceiverAuthorities#add add}
     * what only they know, such as an advertised host.
     */
    @Bean
    @ConditionalOnMissingBean
    ReceiverAuthorities fabricReceiverAuthorities(FabricSecurityProperties properties) {
        ReceiverAuthorities authorities = ReceiverAuthorities.of(properties.signature().authorities());
        LocalAddresses.hostNames().forEach(authorities::add);
        log.debug("this service receives signed requests under {}", authorities);
        return authorities;
    }

    @Bean
    ApplicationListener<WebServerInitializedEvent> fabricReceiverPorts(ReceiverAuthorities authorities) {
        return event -> authorities.addOwnPort(event.getWebServer().getPort());
    }

    @Bean
    @ConditionalOnMissingBean
    SignatureVerifier fabricSignatureVerifier(FabricSecurityProperties properties, ObjectProvider<KeyResolver> resolvers,
                                              ObjectProvider<FabricKeys> keyBeans, FabricKeysHolder holder,
                                              ObjectProvider<Clock> clocks, ReceiverAuthorities authorities) {
        KeyResolver resolver = resolvers.getIfAvailable(() -> {
            FabricKeys keys = keyBeans.getIfAvailable(holder::keys);
            if (keys == null) {
                return null;
            }
            return KeyResolver.of(Map.of(keys.keyId(), keys.publicKey()));
        });
        if (resolver == null) {
            throw new IllegalStateException("signed requests are enforced but no fabric key is trusted: set "
                    + "fabric.security.keys-path to the fabric key directory, or define a FabricKeys or KeyResolver bean");
        }
        FabricSecurityProperties.Signature signature = properties.signature();
        Clock clock = clocks.getIfAvailable(Clock::systemUTC);
        VerificationPolicy policy = new VerificationPolicy(signature.skew(), signature.maxHeaderBytes(), null);
        return new SignatureVerifier(resolver, policy, new ReplayCache(signature.replayCacheCapacity(), clock), clock,
                authorities);
    }

    /** A bean, so Spring Boot does not add its default in-memory user (nor log its generated password). */
    @Bean
    @ConditionalOnMissingBean
    SignatureAuthenticationProvider fabricSignatureAuthenticationProvider(SignatureVerifier verifier) {
        return new SignatureAuthenticationProvider(verifier);
    }

    @Bean
    @ConditionalOnMissingBean
    SignatureAuthenticationFilter fabricSignatureFilter(FabricSecurityProperties properties, SignatureAuthenticationProvider provider,
                                                        ObjectProvider<JsonMapper> json, ObjectProvider<MeterRegistry> meters) {
        FabricSecurityProperties.Signature signature = properties.signature();
        return new SignatureAuthenticationFilter(new ProviderManager(provider),
                FabricSignatureSecurity.openPaths(signature.openPaths()), signature.maxBodySize().toBytes(),
                problemResponses(json), meters.getIfAvailable());
    }

    @Bean
    @ConditionalOnMissingBean(SecurityFilterChain.class)
    SecurityFilterChain fabricSecurityFilterChain(HttpSecurity http, FabricSecurityProperties properties,
                                                  SignatureAuthenticationFilter filter, ObjectProvider<JsonMapper> json)
            throws Exception {
        FabricSecurityProperties.Signature signature = properties.signature();
        if (!signature.enabled()) {
            log.warn("fabric.security.signature.enabled=false: this service accepts UNSIGNED requests; never run it so in a fabric");
            FabricSignatureSecurity.writeHeadersFirst(http);
            http.csrf(c -> c.disable()).authorizeHttpRequests(a -> a.anyRequest().permitAll());
            return http.build();
        }
        return FabricSignatureSecurity.apply(http, filter, signature.openPaths(), problemResponses(json)).build();
    }

    /** Keeps the filter from being registered a second time, outside the security chain. */
    @Bean
    org.springframework.boot.web.servlet.FilterRegistrationBean<SignatureAuthenticationFilter> fabricSignatureFilterRegistration(
            SignatureAuthenticationFilter filter) {
        var registration = new org.springframework.boot.web.servlet.FilterRegistrationBean<>(filter);
        registration.setEnabled(false);
        return registration;
    }

    private static ProblemResponses problemResponses(ObjectProvider<JsonMapper> json) {
        return new ProblemResponses(json.getIfAvailable(() -> JsonMapper.builder().build()));
    }

    /** The keys read from {@code fabric.security.keys-path}, if any; empty when the application supplies its own. */
    public record FabricKeysHolder(FabricKeys keys) {}
}
