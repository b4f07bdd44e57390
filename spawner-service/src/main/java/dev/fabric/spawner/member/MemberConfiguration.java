package dev.fabric.spawner.member;

import dev.fabric.spawner.contract.BootstrapExit;
import dev.fabric.core.spring.FabricSecurityAutoConfiguration.FabricKeysHolder;
import dev.fabric.spawner.role.Role;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;
import org.springframework.core.env.Environment;

import java.util.List;

/** A spawned member's parts: its settings from the environment, its (late) keys, its node. */
@Configuration(proxyBeanMethods = false)
@Profile("member")
public class MemberConfiguration {

    private static final Logger log = LoggerFactory.getLogger(MemberConfiguration.class);

    @Bean
    MemberSettings memberSettings(Environment env) {
        try {
            return MemberSettings.from(env);
        } catch (MemberSettings.Invalid e) {
            // Before Spring can do anything useful: say why and leave with the documented status.
            log.error("member exits with status {} ({}): {}", BootstrapExit.BAD_ENVIRONMENT.code(),
                    BootstrapExit.BAD_ENVIRONMENT.meaning(), e.getMessage());
            System.exit(BootstrapExit.BAD_ENVIRONMENT.code());
            throw e;
        }
    }

    /** Trusted keys: none until the bootstrap delivers them. */
    @Bean
    MemberKeys memberKeys() {
        return new MemberKeys();
    }

    /** The member reads no key directory: its keys arrive sealed. */
    @Bean
    FabricKeysHolder fabricKeysHolder() {
        return new FabricKeysHolder(null);
    }

    @Bean
    RoleShutdown roleShutdown(MemberNode node) {
        return new RoleShutdown(node);
    }

    @Bean(destroyMethod = "shutdown")
    MemberNode memberNode(MemberSettings settings, MemberKeys keys, List<Role> roles, @Value("${server.port}") int port,
                          ConfigurableApplicationContext context) {
        return new MemberNode(settings, keys, roles, port, context);
    }
}
