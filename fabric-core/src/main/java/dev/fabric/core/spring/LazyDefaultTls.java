package dev.fabric.core.spring;

import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.springframework.util.function.SingletonSupplier;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import java.security.KeyManagementException;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.function.Supplier;

/**
 * The JVM's default TLS context, made at the first TLS connection instead of when a client is built.
 * Both HTTP clients make theirs eagerly: the JDK's {@code HttpClient} calls {@link SSLContext#getDefault()}
 * in its constructor and the pooled Apache client builds its default TLS strategy with the pool. That
 * reads and parses the JDK's trust store (some 140 certificates) and loads about 200 TLS classes, 3 to
 * 6 MiB in every service (a member makes its clients at its bootstrap), although a fabric whose URLs
 * are plain {@code http://} never opens a TLS connection (docs/benchmarks.md, "No TLS context until a
 * TLS connection"). Once a client does connect over TLS, it is the default context itself, with its
 * own defaults: the same trust store, protocols, cipher suites and host name check as before.
 */
final class LazyDefaultTls {

    /** The one every client of {@link FabricRestClients} shares: the JVM's default context. */
    private static final LazyDefaultTls JVM_DEFAULT = new LazyDefaultTls(() -> {
        try {
            return SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no default TLS context: " + e.getMessage(), e);
        }
    }, DefaultClientTlsStrategy::createDefault);

    private final SSLContext context;
    private final SingletonSupplier<TlsSocketStrategy> strategy;
    private volatile boolean made;

    /**
     * {@code defaultContext} is asked for once, at the first TLS connection of a JDK client;
     * {@code defaultStrategy} once, at the first of a pooled client.
     */
    LazyDefaultTls(Supplier<SSLContext> defaultContext, Supplier<TlsSocketStrategy> defaultStrategy) {
        SingletonSupplier<SSLContext> once = SingletonSupplier.of(() -> {
            made = true;
            return defaultContext.get();
        });
        this.context = new Context(new Spi(once));
        this.strategy = SingletonSupplier.of(() -> {
            made = true;
            return defaultStrategy.get();
        });
    }

    static LazyDefaultTls jvmDefault() {
        return JVM_DEFAULT;
    }

    /** For {@code HttpClient.Builder.sslContext}: the default context, made when first used. */
    SSLContext context() {
        return context;
    }

    /**
     * For {@code HttpClient.Builder.sslParameters}, which the JDK client otherwise reads from the context
     * at once: nothing set, so each TLS connection keeps the default context's protocols and cipher
     * suites (the client adds its host name check and server name).
     */
    SSLParameters parameters() {
        return new SSLParameters();
    }

    /**
     * For the pooled Apache client: the strategy its pool would have made ({@link DefaultClientTlsStrategy#createDefault()}),
     * made at its first TLS connection.
     */
    TlsSocketStrategy socketStrategy() {
        return (socket, target, port, attachment, httpContext) -> strategy.obtain().upgrade(socket, target, port, attachment, httpContext);
    }

    /** Whether a TLS connection (or anything else that needed it) has made the default context or strategy yet. */
    boolean made() {
        return made;
    }

    private static final class Context extends SSLContext {

        Context(Spi spi) {
            super(spi, null, "Default");
        }
    }

    /** Every operation on the default context, which it asks for at the first one. */
    private static final class Spi extends SSLContextSpi {

        private final Supplier<SSLContext> delegate;

        Spi(Supplier<SSLContext> delegate) {
            this.delegate = delegate;
        }

        private SSLContext context() {
            return delegate.get();
        }

        @Override
        protected void engineInit(KeyManager[] keys, TrustManager[] trust, SecureRandom random) throws KeyManagementException {
            throw new KeyManagementException("the default TLS context is initialised by the JVM");
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return context().getSocketFactory();
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return context().getServerSocketFactory();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return context().createSSLEngine();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return context().createSSLEngine(host, port);
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return context().getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return context().getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return context().getDefaultSSLParameters();
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return context().getSupportedSSLParameters();
        }
    }
}
