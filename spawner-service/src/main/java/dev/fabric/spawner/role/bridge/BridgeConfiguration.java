package dev.fabric.spawner.role.bridge;

import dev.fabric.spawner.member.MemberKeys;
import dev.fabric.spawner.member.MemberNode;
import dev.fabric.spawner.reach.ReverseChannel;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;
import org.springframework.core.Ordered;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;

/**
 * The bridge's parts in a member: the channel endpoint and the relay, which runs before the
 * signature filter (a relayed request is signed for its destination, not for the bridge). Circuits
 * ({@link BridgeCircuits}) are an ordinary endpoint behind it.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSocket
@Profile("member")
public class BridgeConfiguration implements WebSocketConfigurer {

    private final BridgeChannels channels;

    public BridgeConfiguration(BridgeChannels channels) {
        this.channels = channels;
    }

    @Override
    public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
        registry.addHandler(channels, ReverseChannel.PATH);
    }

    @Bean
    FilterRegistrationBean<BridgeRelay> bridgeRelay(BridgeRole role, MemberNode node, MemberKeys keys) {
        FilterRegistrationBean<BridgeRelay> registration = new FilterRegistrationBean<>(new BridgeRelay(role, channels, node, keys));
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        registration.addUrlPatterns("/*");
        return registration;
    }
}
