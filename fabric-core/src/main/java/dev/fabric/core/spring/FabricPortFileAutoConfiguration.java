package dev.fabric.core.spring;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.web.server.context.WebServerPortFileWriter;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

import java.io.File;

/**
 * Writes the port a fabric service's web server bound to into the file named by
 * {@code fabric.port-file}, once it listens. {@code ./fabric up} starts each service with a fresh
 * port file and waits for it: an answer on the port counts as its own service only when the file
 * names that port, so another process already holding the port (a leftover fabric, another
 * user's) is never mistaken for the service it started.
 */
@AutoConfiguration
@ConditionalOnClass(WebServerPortFileWriter.class)
@ConditionalOnProperty(FabricPortFileAutoConfiguration.PORT_FILE)
public class FabricPortFileAutoConfiguration {

    /** The property naming the port file; unset, nothing is written. */
    public static final String PORT_FILE = "fabric.port-file";

    @Bean
    WebServerPortFileWriter fabricPortFileWriter(Environment environment) {
        return new WebServerPortFileWriter(new File(environment.getRequiredProperty(PORT_FILE)));
    }
}
