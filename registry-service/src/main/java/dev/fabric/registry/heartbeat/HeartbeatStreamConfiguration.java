package dev.fabric.registry.heartbeat;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;
import org.springframework.web.socket.server.standard.ServletServerContainerFactoryBean;

/** Serves heartbeat streams at {@code /api/v1/instances/{id}/heartbeat-stream}. */
@Configuration
@EnableWebSocket
class HeartbeatStreamConfiguration implements WebSocketConfigurer {

    private final HeartbeatStreamHandler handler;
    private final HeartbeatHandshake handshake;

    HeartbeatStreamConfiguration(HeartbeatStreamHandler handler, HeartbeatHandshake handshake) {
        this.handler = handler;
        this.handshake = handshake;
    }

    @Override
    public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
        registry.addHandler(handler, "/api/v1/instances/*/heartbeat-stream").addInterceptors(handshake);
    }

    /** A stream silent for twice the DEAD threshold belongs to a member that is gone: its socket is closed. */
    @Bean
    ServletServerContainerFactoryBean heartbeatStreamContainer(HeartbeatProperties properties) {
        ServletServerContainerFactoryBean container = new ServletServerContainerFactoryBean();
        container.setMaxSessionIdleTimeout(properties.deadThreshold().multipliedBy(2).toMillis());
        container.setMaxBinaryMessageBufferSize(1024);
        container.setMaxTextMessageBufferSize(1024);
        return container;
    }
}
