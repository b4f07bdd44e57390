package dev.fabric.registry.database;

import com.zaxxer.hikari.HikariDataSource;
import dev.fabric.registry.heartbeat.HeartbeatWriter;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;

import javax.sql.DataSource;

/**
 * The registry's database connections ({@link WriterConnections}): the request pool as Spring Boot
 * would make it from {@code spring.datasource.*}, and beside it a pool of the same settings with
 * one connection for each writer thread.
 */
@Configuration(proxyBeanMethods = false)
public class DatabaseConfiguration {

    /**
     * One connection each for the change writer, the {@value HeartbeatWriter#WRITERS} heartbeat
     * writers, the failure detector's pass and its lease (which keeps its connection for the advisory lock).
     */
    public static final int WRITER_CONNECTIONS = 1 + HeartbeatWriter.WRITERS + 1 + 1;

    @Bean(destroyMethod = "close")
    @ConfigurationProperties("spring.datasource.hikari")
    HikariDataSource requestPool(DataSourceProperties properties) {
        HikariDataSource pool = properties.initializeDataSourceBuilder().type(HikariDataSource.class).build();
        pool.setPoolName("registry-requests");
        return pool;
    }

    /** Same database, credentials and timeouts as the request pool, once that has its settings bound. */
    @Bean(destroyMethod = "close")
    HikariDataSource writerPool(@Qualifier("requestPool") HikariDataSource requests) {
        HikariDataSource pool = new HikariDataSource();
        requests.copyStateTo(pool);
        pool.setPoolName("registry-writers");
        pool.setMaximumPoolSize(WRITER_CONNECTIONS);
        pool.setMinimumIdle(WRITER_CONNECTIONS);
        return pool;
    }

    @Bean
    @Primary
    DataSource dataSource(@Qualifier("requestPool") HikariDataSource requests, @Qualifier("writerPool") HikariDataSource writers) {
        return new WriterConnections(requests, writers);
    }
}
